"""Explorer for largest-file: lists /app/data by size (ls -S, ls -lS) or prints every size (du, wc -c,
stat), reads which file is largest and writes its name."""
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
        yield "ls /app/data"
    command = rng.choice(["ls -S /app/data", "ls -lS /app/data", "du -b /app/data/* | sort -n",
                          "wc -c /app/data/*", "stat -c '%s %n' /app/data/*"])
    out = yield command
    if command == "ls -S /app/data":                  # largest first, one name a line
        name = need(re.match(r"\s*([\w-]+\.dat)\s*$", out, re.M), "file name", out)[1]
    elif command == "ls -lS /app/data":               # "-rw-r--r-- 1 root root 371 Nov 30 14:52 owl.dat"
        name = need(re.search(r"^-.* ([\w-]+\.dat)$", out, re.M), "file line", out)[1]
    else:                                             # "371 /app/data/owl.dat" per file (wc adds a total)
        sizes = [(int(s), n) for s, n in re.findall(r"^\s*(\d+)\s+/app/data/([\w-]+\.dat)$", out, re.M)]
        name = max(need(sizes, "file sizes", out))[1]
    yield answer(rng, name)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
