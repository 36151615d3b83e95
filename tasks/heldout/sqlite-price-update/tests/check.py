import os, sqlite3, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, expected = gen.plan(seed)
try:
    db = sqlite3.connect("file:/app/inventory.db?mode=ro", uri=True)
    got = db.execute("SELECT id, name, category, price_cents, stock FROM products ORDER BY id").fetchall()
except sqlite3.Error as e:
    sys.exit(f"FAIL: cannot read products: {e}")
for row in got:
    if not isinstance(row[3], int):
        sys.exit(f"FAIL: price_cents {row[3]!r} of product {row[0]} is not an integer")
if got != expected:
    sys.exit(f"FAIL: products table differs from expected\n got {got[:5]}...\nwant {expected[:5]}...")
print("ok")
