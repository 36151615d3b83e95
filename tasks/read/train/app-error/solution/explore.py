"""Explorer for app-error: runs /app/app.py, reads which of its three errors it printed and the name or
value in it, makes that one fix, and runs it again."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.3:
        yield rng.choice(["cat /app/app.cfg", "ls /app", "ls /app/run"])
    out = yield rng.choice(["python3 /app/app.py", "python3 /app/app.py 2>&1"])
    if m := re.search(r"required file (\S+) not found", out):
        yield rng.choice([f"touch {m[1]}", f"echo ready > {m[1]}"])
    elif m := re.search(r"mode is '(\w*)', expected '(\w+)'", out):
        yield rng.choice([f"sed -i 's/^mode=.*/mode={m[2]}/' /app/app.cfg", f"echo mode={m[2]} > /app/app.cfg"])
    else:
        m = need(re.search(r"stale lock (\S+) ", out), "error", out)
        yield f"rm {m[1]}"
    yield "python3 /app/app.py"
