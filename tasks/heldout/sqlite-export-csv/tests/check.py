import csv, os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
*_, expected = gen.plan(seed)
try:
    rows = list(csv.reader(open("/app/engineering.csv", newline="")))
except FileNotFoundError:
    sys.exit("FAIL: /app/engineering.csv missing")
rows = [[c.strip() for c in r] for r in rows if r]
if not rows or rows[0] != ["id", "name", "salary"]:
    sys.exit(f"FAIL: header is {rows[:1]}, expected ['id', 'name', 'salary']")
want = [[str(i), n, str(s)] for i, n, s in expected]
if rows[1:] != want:
    sys.exit(f"FAIL: rows\n{rows[1:]}\nexpected\n{want}")
print("ok")
