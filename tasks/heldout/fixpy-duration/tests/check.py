import json, os, subprocess, sys
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
valid, invalid, formats = gen.cases(seed)
probe = r'''
import json, sys
sys.path.insert(0, "/app")
import durations
valid, invalid, formats = json.loads(sys.argv[1])
out = {"parse": {}, "accepted": [], "format": {}, "negative_ok": False}
for text in valid:
    out["parse"][text] = durations.parse_duration(text)
for text in invalid:
    try:
        durations.parse_duration(text)
        out["accepted"].append(text)
    except ValueError:
        pass
for s in formats:
    out["format"][s] = durations.format_duration(int(s))
try:
    durations.format_duration(-5)
except ValueError:
    out["negative_ok"] = True
print(json.dumps(out))
'''
r = agent(["python3", "-E", "-s", "-c", probe, json.dumps([list(valid), invalid, list(formats)])],
                   capture_output=True, text=True, timeout=30, cwd="/tmp")
if r.returncode != 0:
    sys.exit(f"FAIL: calling durations crashed:\n{r.stderr[-1500:]}")
out = json.loads(r.stdout.strip().splitlines()[-1])
for text, want in valid.items():
    if out["parse"][text] != want:
        sys.exit(f"FAIL: parse_duration({text!r}) = {out['parse'][text]!r}, expected {want}")
if out["accepted"]:
    sys.exit(f"FAIL: parse_duration accepted invalid input {out['accepted']}")
for s, want in formats.items():
    if out["format"][str(s)] != want:
        sys.exit(f"FAIL: format_duration({s}) = {out['format'][str(s)]!r}, expected {want!r}")
if not out["negative_ok"]:
    sys.exit("FAIL: format_duration(-5) did not raise ValueError")
texts = list(valid)[-3:]
cli = agent(["python3", "-E", "-s", "/app/durations.py", *texts], capture_output=True, text=True, timeout=10)
want = gen.fmt(sum(valid[t] for t in texts))
if cli.stdout.strip() != want:
    sys.exit(f"FAIL: durations.py {texts} printed {cli.stdout.strip()!r}, expected {want!r}")
print("ok")
