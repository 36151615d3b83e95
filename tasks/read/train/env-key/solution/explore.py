"""Explorer for env-key: runs run.py, reads the missing setting and the key file its error names, reads
that file, appends NAME=value to run.env and runs again."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield "python3 /app/run.py"
    m = need(re.search(r"setting (\w+) is missing .* is in (\S+)\)", out), "setting", out)
    out = yield f"cat {m[2]}"
    value = need(re.fullmatch(r"\s*(\w+)\s*", out), "key value", out)[1]
    yield f"echo {m[1]}={value} >> /app/run.env"
    if rng.random() < 0.5:
        yield "python3 /app/run.py"
