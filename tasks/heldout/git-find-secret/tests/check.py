import os, sys, tempfile
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
expected = gen.build(os.path.join(tempfile.mkdtemp(), "repo"), seed)
try:
    got = open("/app/answer.txt").read().strip()
except FileNotFoundError:
    sys.exit("FAIL: /app/answer.txt missing")
if got != expected:
    sys.exit(f"FAIL: answer {got!r} is not the commit that added DEBUG_PASSWORD")
print("ok")
