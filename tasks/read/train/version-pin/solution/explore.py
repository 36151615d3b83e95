"""Explorer for version-pin: runs install.py, reads the package and its available versions, picks the
newest by number (not as text), pins it and runs the installer again."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.4:
        yield "cat /app/requirements.txt"
    out = yield "python3 /app/install.py"
    m = need(re.search(r"Error: (\w+)==\S+ is not installable\. Available: ([\d., ]+)", out), "versions", out)
    newest = max(m[2].strip().split(", "), key=lambda v: tuple(map(int, v.split("."))))
    yield rng.choice([f"echo {m[1]}=={newest} > /app/requirements.txt",
                      f"sed -i 's/==.*/=={newest}/' /app/requirements.txt"])
    yield "python3 /app/install.py"
