"""Explorer for quota-clean: runs report.py, reads which report its error names, deletes it and runs
again."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.4:
        yield "ls /app/out"
    out = yield "python3 /app/report.py"
    path = need(re.search(r"delete the oldest, (\S+)", out), "report to delete", out)[1]
    yield f"rm {path}"
    yield "python3 /app/report.py"
