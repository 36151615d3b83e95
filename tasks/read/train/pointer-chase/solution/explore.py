"""Explorer for pointer-chase: reads start.txt for a line number, the index for the note on that line,
and the note for the code."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield "cat /app/start.txt"
    k = int(need(re.search(r"line (\d+)", out), "line number", out)[1])
    out = yield rng.choice(["cat /app/index.txt", f"sed -n {k}p /app/index.txt", "cat -n /app/index.txt"])
    paths = re.findall(r"/app/notes/\w+\.txt", out)
    path = need(paths[k - 1] if len(paths) >= k else paths[0] if len(paths) == 1 else None, "note", out)
    out = yield f"cat {path}"
    value = need(re.search(r"code: (\w+)", out), "code", out)[1]
    yield f"echo {value} > /app/answer.txt"
