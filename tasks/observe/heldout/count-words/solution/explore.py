"""Explorer for count-words: counts the words of /app/poem.txt with wc (or prints the poem and counts
what it sees), reads the number and writes it."""
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
    command = rng.choice(["wc -w /app/poem.txt", "wc -w < /app/poem.txt", "cat /app/poem.txt | wc -w",
                          "wc /app/poem.txt", "cat /app/poem.txt"])
    out = yield command
    if command == "cat /app/poem.txt":
        count = len(need(out.split(), "words", out))
    elif command == "wc /app/poem.txt":               # "  4  23 120 /app/poem.txt": lines, words, bytes
        count = need(re.search(r"^\s*\d+\s+(\d+)\s+\d+ /app/poem\.txt", out, re.M), "wc line", out)[1]
    else:                                             # "23 /app/poem.txt" or "23"
        count = need(re.match(r"\s*(\d+)(?: /app/poem\.txt)?\s*$", out), "count", out)[1]
    yield answer(rng, count)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
