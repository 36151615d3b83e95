"""Explorer for missing-file: runs /app/report.py, reads the missing path from its FileNotFoundError,
copies /app/input.txt to exactly that path (making its directory) and runs the script again."""
import posixpath
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.4:
        yield rng.choice(["ls /app", "cat /app/input.txt", "ls -la /app"])
    out = yield rng.choice(["python3 /app/report.py", "python3 /app/report.py 2>&1"])
    path = need(re.search(r"No such file or directory: '(/[^']+)'", out), "missing path", out)[1]
    folder = posixpath.dirname(path)
    way = rng.choice(["one line", "two steps", "install"])
    if way == "one line":
        yield f"mkdir -p {folder} && cp /app/input.txt {path}"
    elif way == "two steps":
        yield f"mkdir -p {folder}"
        yield f"cp /app/input.txt {path}"
    else:
        yield f"install -D /app/input.txt {path}"
    yield "python3 /app/report.py"
