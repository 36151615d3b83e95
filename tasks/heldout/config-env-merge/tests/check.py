import os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
d, p, expected = gen.plan(seed)
if open("/app/config/defaults.env").read() != d or open("/app/config/production.env").read() != p:
    sys.exit("FAIL: the input files were modified")
try:
    got = [l.rstrip("\r\n") for l in open("/app/config/final.env")]
except FileNotFoundError:
    sys.exit("FAIL: /app/config/final.env missing")
while got and got[-1] == "":
    got.pop()
if got != expected:
    sys.exit(f"FAIL: final.env is\n{got}\nexpected\n{expected}")
print("ok")
