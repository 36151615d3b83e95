"""Explorer for csv-sum: reads the header of /app/sales.csv to learn which column is qty, then either
adds the numbers it sees or has awk / bc add them and reads the total; writes the total."""
import re


def need(match, what: str, out: str):
    """The regex match (or value) parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def answer(rng, value: str) -> str:
    """A command writing `value`, read from an earlier output, to /app/answer.txt."""
    return rng.choice([f"echo {value} > /app/answer.txt", f"printf '%s\\n' {value} > /app/answer.txt"])


def qty_column(out: str) -> int:
    """The 1-based position of qty in a header line such as "item,qty,price"."""
    for line in out.splitlines():
        if "qty" in line.split(","):
            return line.split(",").index("qty") + 1
    raise ValueError(f"no header with qty in the output {out[:200]!r}")


def explore(rng):
    if rng.random() < 0.5:                            # the whole file: add the column by reading it
        out = yield "cat /app/sales.csv"
        k = qty_column(out)
        rows = [line.split(",") for line in out.strip().splitlines()[1:]]
        total = sum(int(row[k - 1]) for row in rows)
    else:
        k = qty_column((yield rng.choice(["head -n 1 /app/sales.csv", "head -1 /app/sales.csv"])))
        command = rng.choice([f"awk -F, 'NR > 1 {{s += ${k}}} END {{print s}}' /app/sales.csv",
                              f"tail -n +2 /app/sales.csv | cut -d, -f{k} | paste -sd+ | bc",
                              f"cut -d, -f{k} /app/sales.csv"])
        out = yield command
        if command.startswith("cut"):                 # the column itself: "qty" then one number a line
            total = sum(int(x) for x in re.findall(r"^(\d+)$", out, re.M))
            need("qty" in out, "qty column", out)
        else:
            total = int(need(re.fullmatch(r"\s*(\d+)\s*", out), "total", out)[1])
    yield answer(rng, total)
    if rng.random() < 0.5:
        yield "cat /app/answer.txt"
