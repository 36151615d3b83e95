import os, subprocess, sys
import tempfile

# ---- The agent's code runs as nobody, never as root (README "Containment", invariant 3): it cannot write
# /logs/verifier, signal or trace this check, or leave a process behind while the check reads its results.
NOBODY_ID = 65534
NOBODY = ["setpriv", f"--reuid={NOBODY_ID}", f"--regid={NOBODY_ID}", "--clear-groups", "--"]
SCRATCH = []


def scratch():
    """A fresh directory the agent's code may work in (handed to nobody when that code runs)."""
    SCRATCH.append(tempfile.mkdtemp())
    return SCRATCH[-1]


def agent(argv, **kw):
    """subprocess.run(argv, **kw) as nobody, after handing it the scratch directories (os.walk and lchown
    follow no link); every process it left is killed before this returns. /tests is root's alone first:
    the check's own files (gen.py's reference answers) are not the agent's code's to read."""
    os.chown("/tests", 0, 0)
    os.chmod("/tests", 0o700)
    for top in SCRATCH:
        for root, dirs, files in os.walk(top):
            for p in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.lchown(p, NOBODY_ID, NOBODY_ID)
    try:
        return subprocess.run(NOBODY + argv, **kw)
    finally:
        for _ in range(100):
            left = [int(p) for p in os.listdir("/proc") if p.isdigit() and _owner(p) == NOBODY_ID]
            if not left:
                break
            for p in left:
                try:
                    os.kill(p, 9)
                except OSError:
                    pass


def _owner(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None            # a zombie: already dead
        return os.stat(f"/proc/{pid}").st_uid
    except (OSError, IndexError):
        return None


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
r = agent(["python3", "-E", "-s", "-c", probe, json.dumps([numbers, invalid])], capture_output=True,
          text=True, timeout=30, cwd="/tmp")
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
