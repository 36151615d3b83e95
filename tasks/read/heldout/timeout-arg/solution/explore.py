"""Explorer for timeout-arg: runs slow.py, reads the timeout its error names, reruns with it, writes the
result."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield "python3 /app/slow.py"
    t = need(re.search(r"--timeout (\d+)", out), "timeout", out)[1]
    out = yield f"python3 /app/slow.py --timeout {t}"
    value = need(re.search(r"result: (\w+)", out), "result", out)[1]
    yield f"echo {value} > /app/answer.txt"
