import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
*_, top = gen.plan(seed)
expected = [f"{name},{cents // 100}.{cents % 100:02d}" for name, cents in top]
try:
    got = [l.strip() for l in open("/app/top_customers.txt").read().strip().splitlines()]
except FileNotFoundError:
    sys.exit("FAIL: /app/top_customers.txt missing")
if got != expected:
    sys.exit(f"FAIL: got {got}, expected {expected}")
print("ok")
