"""Random inventory CSVs; writes /app/items.csv and holds the reference report."""
import os, random
from decimal import Decimal

NAMES = ["bolt", "nut", "gear", "spring", "washer", "pin", "hinge", "bracket", "valve", "pulley"]


def items_csv(rng, ties=False):
    rows = []
    for i in range(rng.randint(3, 25)):
        qty = rng.choice([0, 2, 4, 5, 5, 6, rng.randint(0, 200)])
        price = f"{rng.randint(0, 40)}.{rng.randint(0, 99):02d}"
        rows.append((f"SKU{rng.randint(1000, 9999)}-{i}", rng.choice(NAMES), qty, price))
    if ties:  # two rows with the same, largest value
        rows.insert(1, ("SKU-A", "anvil", 1000, "50.00"))
        rows.append(("SKU-B", "anvil", 500, "100.00"))
    return "sku,name,qty,unit_price\n" + "".join(f"{s},{n},{q},{p}\n" for s, n, q, p in rows)


def report(text):
    rows = [l.split(",") for l in text.splitlines()[1:] if l]
    items = [(s, n, int(q), Decimal(p)) for s, n, q, p in rows]
    best, best_value = None, -1.0
    for sku, _, qty, price in items:  # float, as the fixed program computes it
        if qty * float(price) > best_value:
            best, best_value = sku, qty * float(price)
    low = [sku for sku, _, qty, _ in items if qty < 5]
    return (f"items: {len(items)}\ntotal_qty: {sum(i[2] for i in items)}\n"
            f"total_value: {sum(i[2] * i[3] for i in items):.2f}\nmost_valuable: {best}\n"
            f"low_stock: {','.join(low) or 'none'}\n")


if __name__ == "__main__":
    rng = random.Random(int(os.environ.get("TASK_SEED", "0")))
    with open("/app/items.csv", "w") as f:
        f.write(items_csv(rng))
