"""Explorer for line-number: finds "zebra" in /app/words.txt with a command that shows line numbers
(grep -n, cat -n, awk NR), reads the number and writes it."""
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
    if rng.random() < 0.3:
        yield rng.choice(["head /app/words.txt", "wc -l /app/words.txt"])
    out = yield rng.choice(["grep -n zebra /app/words.txt", "cat -n /app/words.txt",
                            "awk '/zebra/ {print NR}' /app/words.txt", "grep -nx zebra /app/words.txt"])
    # "7:zebra" (grep -n), "     7\tzebra" (cat -n) or a bare "7" (awk)
    m = re.search(r"^\s*(\d+)[:\t]zebra\s*$", out, re.M) or re.fullmatch(r"\s*(\d+)\s*", out)
    yield answer(rng, need(m, "line number", out)[1])
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
