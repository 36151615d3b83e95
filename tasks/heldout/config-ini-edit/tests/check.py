import configparser, os, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
_, expected, comments = gen.plan(seed)
try:
    text = open("/app/app.ini").read()
except FileNotFoundError:
    sys.exit("FAIL: /app/app.ini missing")
cp = configparser.ConfigParser(interpolation=None)
try:
    cp.read_string(text)
except configparser.Error as e:
    sys.exit(f"FAIL: app.ini does not parse: {e}")
got = {s: dict(cp[s]) for s in cp.sections()}
if got != expected:
    sys.exit(f"FAIL: settings are\n{got}\nexpected\n{expected}")
lines = [l.strip() for l in text.splitlines()]
missing = [c for c in comments if c not in lines]
if missing:
    sys.exit(f"FAIL: comment lines removed: {missing}")
print("ok")
