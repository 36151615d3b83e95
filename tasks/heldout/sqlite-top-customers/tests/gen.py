"""Build /app/shop.db: customers and orders (amounts in cents, some refunded, several years)."""
import os, random, sqlite3

FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "June", "Kai", "Lena", "Milo", "Nia"]
LAST = ["Stone", "Reyes", "Okafor", "Nguyen", "Berg", "Costa", "Ito", "Khan", "Moreau", "Novak"]


def plan(seed):
    """Return (customers, orders, expected): expected is [(name, total_cents)] for the top 3 of 2023."""
    rng = random.Random(seed)
    while True:
        names = rng.sample([f"{f} {l}" for f in FIRST for l in LAST], rng.randint(12, 20))
        customers = [(i + 1, n, rng.choice(["Lyon", "Oslo", "Lima", "Pune"])) for i, n in enumerate(names)]
        orders = []
        for oid in range(1, rng.randint(150, 250)):
            year = rng.choice([2022, 2023, 2023, 2024])
            date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            status = "refunded" if rng.random() < 0.15 else "paid"
            orders.append((oid, rng.randint(1, len(customers)), date, rng.randint(500, 50000), status))
        totals = {}
        for _, cid, date, cents, status in orders:
            if date.startswith("2023") and status == "paid":
                totals[cid] = totals.get(cid, 0) + cents
        ranked = sorted(totals.items(), key=lambda kv: -kv[1])
        if len(ranked) >= 4 and len({t for _, t in ranked[:4]}) == 4:
            return customers, orders, [(names[cid - 1], t) for cid, t in ranked[:3]]


def build(path, seed):
    customers, orders, _ = plan(seed)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT)")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), "
               "order_date TEXT, amount_cents INTEGER, status TEXT)")
    db.executemany("INSERT INTO customers VALUES (?, ?, ?)", customers)
    db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
    db.commit()
    db.close()


if __name__ == "__main__":
    build("/app/shop.db", int(os.environ.get("TASK_SEED", "0")))
