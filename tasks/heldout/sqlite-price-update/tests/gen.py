"""Build /app/inventory.db: a products table with prices in cents (all multiples of 10)."""
import os, random, sqlite3

ITEMS = {"tools": ["hammer", "wrench", "saw", "drill", "pliers", "chisel", "level", "clamp"],
         "garden": ["rake", "hose", "shovel", "trowel", "shears", "planter"],
         "paint": ["primer", "roller", "brush", "tape", "varnish", "thinner"]}


def plan(seed):
    """Return (rows, expected_rows) for products(id, name, category, price_cents, stock)."""
    rng = random.Random(seed)
    rows = []
    for cat, names in ITEMS.items():
        for name in rng.sample(names, rng.randint(4, len(names))):
            for size in rng.sample(["S", "M", "L", "XL"], rng.randint(1, 3)):
                stock = 0 if rng.random() < 0.25 else rng.randint(1, 80)
                rows.append([f"{name}-{size}", cat, rng.randint(20, 900) * 10, stock])
    rng.shuffle(rows)
    if not any(r[3] == 0 for r in rows):
        rows[0][3] = 0
    rows = [(i + 1, *r) for i, r in enumerate(rows)]
    expected = [(i, n, c, p * 11 // 10 if c == "tools" else p, s) for i, n, c, p, s in rows if s != 0]
    return rows, expected


def build(path, seed):
    rows, _ = plan(seed)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, "
               "price_cents INTEGER NOT NULL, stock INTEGER NOT NULL)")
    db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()


if __name__ == "__main__":
    build("/app/inventory.db", int(os.environ.get("TASK_SEED", "0")))
