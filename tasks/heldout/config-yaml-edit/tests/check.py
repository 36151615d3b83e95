import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, _, expected = gen.plan(seed)
try:
    got = gen.parse(open("/app/deploy/services.yaml").read())
except FileNotFoundError:
    sys.exit("FAIL: /app/deploy/services.yaml missing")
except ValueError as e:
    sys.exit(f"FAIL: cannot parse services.yaml: {e}")
if got != expected:
    sys.exit(f"FAIL: services.yaml parses to\n{got}\nexpected\n{expected}")
print("ok")
