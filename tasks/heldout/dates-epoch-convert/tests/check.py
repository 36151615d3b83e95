import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, expected = gen.plan(seed)
try:
    got = open("/app/events_utc.csv").read()
except FileNotFoundError:
    sys.exit("FAIL: /app/events_utc.csv missing")
got_lines = [l.rstrip() for l in got.strip().splitlines()]
if got_lines != expected.strip().splitlines():
    sys.exit(f"FAIL: events_utc.csv is\n{got}\nexpected\n{expected}")
print("ok")
