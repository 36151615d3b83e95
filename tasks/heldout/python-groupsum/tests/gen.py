"""Random CSV inputs for the group-sum task; writes /app/example.csv."""
import csv, io, os, random
from decimal import Decimal

REGIONS = ["north", "south", "east", "west", "Central", "north-east", "Overseas"]
PRODUCTS = ["bolts", "nuts", "gears", "springs", "Washers", "pins"]


def table(rng):
    """Return CSV text with columns in random order plus (column names)."""
    cols = ["date", "region", "product", "amount", "qty"]
    rng.shuffle(cols)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for _ in range(rng.randint(5, 60)):
        row = {"date": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", "region": rng.choice(REGIONS),
               "product": rng.choice(PRODUCTS) + rng.choice(["", " (large)", " kit"]),
               "amount": rng.choice(["", f"{rng.randint(0, 5000)}.{rng.randint(0, 99):02d}", str(rng.randint(1, 90)),
                                     f"{rng.randint(0, 99)}.5"]),
               "qty": str(rng.randint(1, 30))}
        w.writerow([row[c] for c in cols])
    return buf.getvalue()


def expected(text, group, value):
    totals = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row[value] != "":
            totals[row[group]] = totals.get(row[group], Decimal(0)) + Decimal(row[value])
    return "".join(f"{g},{totals[g]:.2f}\n" for g in sorted(totals))


if __name__ == "__main__":
    rng = random.Random(int(os.environ.get("TASK_SEED", "0")))
    with open("/app/example.csv", "w") as f:
        f.write(table(rng))
