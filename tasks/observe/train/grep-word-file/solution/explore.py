"""Explorer for grep-word-file: greps /app/docs for "urgent", reads the one file name the output shows,
and writes that name."""
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
        yield rng.choice(["ls /app/docs", "ls -l /app/docs"])
    out = yield rng.choice(["grep -l urgent /app/docs/*", "grep -rl urgent /app/docs",
                            "grep urgent /app/docs/*", "grep -c urgent /app/docs/*"])
    # Each line names a file: "/app/docs/kilo.txt" (-l), "...kilo.txt:the urgent cat", "...kilo.txt:1" (-c).
    lines = re.findall(r"^/app/docs/([\w-]+\.txt)(?::(.*))?$", out, re.M)
    names = [name for name, rest in lines if rest != "0"]
    need(len(names) == 1, "single file name", out)
    yield answer(rng, names[0])
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
