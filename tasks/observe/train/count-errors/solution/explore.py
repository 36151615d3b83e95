"""Explorer for count-errors: counts the ERROR lines of /app/app.log with a command (or lists them and
counts the lines it sees), reads the number and writes it."""
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def answer(rng, value: str) -> str:
    """A command writing `value`, read from an earlier output, to /app/answer.txt."""
    return rng.choice([f"echo {value} > /app/answer.txt", f"printf '%s\\n' {value} > /app/answer.txt"])


def explore(rng):
    if rng.random() < 0.4:
        yield rng.choice(["head -n 5 /app/app.log", "wc -l /app/app.log", "ls -l /app"])
    command = rng.choice(["grep -c ERROR /app/app.log", "grep ERROR /app/app.log | wc -l",
                          "awk '/ERROR/' /app/app.log | wc -l", "grep ERROR /app/app.log"])
    out = yield command
    if command == "grep ERROR /app/app.log":          # the matching lines themselves: count them
        count = len(re.findall(r"^ERROR ", out, re.M))
    else:
        count = int(need(re.fullmatch(r"\s*(\d+)\s*", out), "count", out)[1])
    yield answer(rng, count)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
