import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, inside = gen.plan(seed)
try:
    count = open("/app/count.txt").read().strip()
    lines = [l.rstrip("\r\n") for l in open("/app/window.log").read().strip("\n").splitlines()]
except FileNotFoundError as e:
    sys.exit(f"FAIL: {e.filename} missing")
if count != str(len(inside)):
    sys.exit(f"FAIL: count.txt says {count!r}, expected {len(inside)}")
if lines != inside:
    sys.exit(f"FAIL: window.log has {len(lines)} lines, expected these {len(inside)}:\n" + "\n".join(inside))
print("ok")
