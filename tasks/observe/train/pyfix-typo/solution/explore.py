"""Explorer for pyfix-typo: runs /app/calc.py, reads the misspelled name and Python's suggestion from the
NameError ("name 'totl' is not defined. Did you mean: 'total'?"), replaces the one by the other with
sed or perl, and runs the script again."""
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    if rng.random() < 0.4:
        yield rng.choice(["cat /app/calc.py", "cat -n /app/calc.py", "ls /app"])
    out = yield rng.choice(["python3 /app/calc.py", "python3 /app/calc.py 2>&1"])
    m = need(re.search(r"name '(\w+)' is not defined\. Did you mean: '(\w+)'", out), "NameError", out)
    bad, good = m[1], m[2]
    yield rng.choice([f"sed -i 's/\\b{bad}\\b/{good}/' /app/calc.py",
                      f"sed -i 's/\\b{bad}\\b/{good}/g' /app/calc.py",
                      f"perl -pi -e 's/\\b{bad}\\b/{good}/g' /app/calc.py"])
    if rng.random() < 0.3:
        yield f"grep -n {good} /app/calc.py"
    yield "python3 /app/calc.py"
