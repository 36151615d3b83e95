"""Explorer for retry-delay: runs fetch.py, reads the delay its error asks for, reruns with it, reads the
token and writes it."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield rng.choice(["python3 /app/fetch.py", "cd /app && python3 fetch.py"])
    delay = need(re.search(r"--delay (\d+)", out), "delay", out)[1]
    out = yield f"python3 /app/fetch.py --delay {delay}"
    token = need(re.search(r"data: (\w+)", out), "token", out)[1]
    yield rng.choice([f"echo {token} > /app/answer.txt", f"printf '%s\\n' {token} > /app/answer.txt"])
