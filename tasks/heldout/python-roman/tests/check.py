import os, subprocess, sys
sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
numbers, invalid = gen.cases(seed)
# Run in a child so a hanging or crashing module cannot take the checker down.
probe = r'''
import sys, json
sys.path.insert(0, "/app")
import roman
numbers, invalid = json.loads(sys.argv[1])
out = {"to": {}, "from": {}, "bad_to": [], "bad_from": [], "all": True}
for n in numbers:
    out["to"][n] = roman.to_roman(n)
for i in range(1, 4000):
    if roman.from_roman(roman.to_roman(i)) != i:
        out["all"] = False
for n in (0, -5, 4000, 10000):
    try:
        roman.to_roman(n)
        out["bad_to"].append(n)
    except ValueError:
        pass
for s in invalid:
    try:
        roman.from_roman(s)
        out["bad_from"].append(s)
    except ValueError:
        pass
print(json.dumps(out))
'''
import json
if not os.path.isfile("/app/roman.py"):
    sys.exit("FAIL: /app/roman.py missing")
r = subprocess.run(["python3", "-c", probe, json.dumps([numbers, invalid])], capture_output=True, text=True,
                   timeout=30, cwd="/tmp")
if r.returncode != 0:
    sys.exit(f"FAIL: probe crashed:\n{r.stderr[-1500:]}")
out = json.loads(r.stdout.strip().splitlines()[-1])


def ref(n):
    vals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
            (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    s = ""
    for v, r_ in vals:
        while n >= v:
            s, n = s + r_, n - v
    return s


for n in numbers:
    if out["to"][str(n)] != ref(n):
        sys.exit(f"FAIL: to_roman({n}) = {out['to'][str(n)]!r}, expected {ref(n)!r}")
if not out["all"]:
    sys.exit("FAIL: from_roman(to_roman(i)) != i for some i in 1..3999")
if out["bad_to"]:
    sys.exit(f"FAIL: to_roman accepted {out['bad_to']}")
if out["bad_from"]:
    sys.exit(f"FAIL: from_roman accepted {out['bad_from']}")
print("ok")
