"""Explorer for menu-choice: reads the target from NOTES and its number from deploy.py's menu."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield "cat /app/NOTES"
    pick = need(re.search(r"goes to (\w+)", out), "target", out)[1]
    out = yield "python3 /app/deploy.py"
    number = need(re.search(rf"^(\d)\) {pick}$", out, re.M), "menu line", out)[1]
    yield f"echo {number} > /app/answer.txt"
