import os, random, subprocess, sys, tempfile

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
rng = random.Random(seed * 7919 + 5)
tmp = scratch()
for k in range(8):
    text = gen.items_csv(rng, ties=k % 2 == 0)
    path = os.path.join(tmp, f"items{k}.csv")
    with open(path, "w") as f:
        f.write(text)
    r = agent(["python3", "-E", "-s", "/app/report.py", path], capture_output=True, text=True, timeout=10)
    want = gen.report(text)
    got = "".join(l.rstrip() + "\n" for l in r.stdout.strip().splitlines())
    if r.returncode != 0 or got != want:
        sys.exit(f"FAIL: case {k}: rc={r.returncode}\ngot:\n{r.stdout}{r.stderr[-500:]}\nwant:\n{want}\ninput:\n{text}")
print("ok")
