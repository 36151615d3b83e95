"""Explorer for newest-date: prints the date line of every report with grep or head, reads which file
has the latest date and writes its name."""
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
        yield rng.choice(["ls /app/reports", "ls -l /app/reports"])
    out = yield rng.choice(["grep date /app/reports/*", "grep -r 'date:' /app/reports",
                            "head -n 1 /app/reports/*", "grep -H date /app/reports/* | sort -k2"])
    # grep: "/app/reports/east.txt:date: 2024-03-17"; head: "==> /app/reports/east.txt <==" then the date
    dates = re.findall(r"^/app/reports/([\w-]+\.txt):date: (\S+)", out, re.M)
    dates += [(n, d) for n, d in re.findall(r"^==> /app/reports/([\w-]+\.txt) <==\ndate: (\S+)", out, re.M)]
    name = max(need(dates, "dates", out), key=lambda nd: nd[1])[0]   # ISO dates sort as text
    yield answer(rng, name)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
