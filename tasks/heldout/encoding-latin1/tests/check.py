import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, want = gen.plan(seed)
if sorted(os.listdir("/app/legacy")) != sorted(want):
    sys.exit(f"FAIL: /app/legacy contains {sorted(os.listdir('/app/legacy'))}, expected {sorted(want)}")
for name, data in want.items():
    if open(f"/app/legacy/{name}", "rb").read() != data:
        sys.exit(f"FAIL: {name} is not the expected UTF-8 text")
print("ok")
