import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, payloads = gen.plan(seed)
d = "/app/inbox/decoded"
if not os.path.isdir(d):
    sys.exit(f"FAIL: {d} missing")
want = sorted(f"{m}.bin" for m in payloads)
if sorted(os.listdir(d)) != want:
    sys.exit(f"FAIL: {d} contains {sorted(os.listdir(d))}, expected {want}")
for mid, data in payloads.items():
    if open(f"{d}/{mid}.bin", "rb").read() != data:
        sys.exit(f"FAIL: {mid}.bin does not contain the decoded payload")
print("ok")
