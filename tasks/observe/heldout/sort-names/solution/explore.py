"""Explorer for sort-names: sorts /app/names.txt (ascending or descending, piped to tail or head) and
reads the last name in order; or prints the names and picks the last one itself. Writes that name."""
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
    command = rng.choice(["sort /app/names.txt | tail -n 1", "sort -r /app/names.txt | head -n 1",
                          "sort /app/names.txt", "cat /app/names.txt"])
    out = yield command
    names = need(re.findall(r"^([a-z]+)$", out, re.M), "names", out)
    # sorted output: the last line (or the only one); the file as it is: the alphabetically last name
    name = max(names) if command.startswith("cat") else names[-1]
    yield answer(rng, name)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
