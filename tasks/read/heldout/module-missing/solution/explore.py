"""Explorer for module-missing: runs main.py, reads the module name from the ModuleNotFoundError, copies
that module from vendor/ and runs again."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.4:
        yield "ls /app/vendor"
    out = yield "python3 /app/main.py"
    name = need(re.search(r"No module named '(\w+)'", out), "module name", out)[1]
    yield rng.choice([f"cp /app/vendor/{name}.py /app/", f"cp /app/vendor/{name}.py /app/{name}.py"])
    yield "python3 /app/main.py"
