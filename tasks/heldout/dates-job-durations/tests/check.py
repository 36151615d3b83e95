import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, durations = gen.plan(seed)
expected = [f"{j} {durations[j]}" for j in sorted(durations)]
try:
    got = [" ".join(l.split()) for l in open("/app/durations.txt").read().strip().splitlines()]
except FileNotFoundError:
    sys.exit("FAIL: /app/durations.txt missing")
if got != expected:
    sys.exit(f"FAIL: durations.txt is\n{got}\nexpected\n{expected}")
print("ok")
