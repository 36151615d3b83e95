import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, want, converted = gen.plan(seed)
for path, data in want.items():
    full = os.path.join("/app/docs", path)
    if not os.path.isfile(full) or open(full, "rb").read() != data:
        sys.exit(f"FAIL: {path} does not have the expected bytes")
try:
    got = [l.strip() for l in open("/app/converted.txt").read().strip().splitlines()]
except FileNotFoundError:
    sys.exit("FAIL: /app/converted.txt missing")
got = [g[2:] if g.startswith("./") else g for g in got]
if got != converted:
    sys.exit(f"FAIL: converted.txt lists {got}, expected {converted}")
print("ok")
