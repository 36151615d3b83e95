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
rng = random.Random(seed * 7919 + 1)
if not os.path.isfile("/app/wordfreq.py"):
    sys.exit("FAIL: /app/wordfreq.py missing")
tmp = scratch()
cases = [(gen.text(rng), None) for _ in range(4)] + [(gen.text(rng), rng.randint(1, 25)) for _ in range(4)]
cases.append(("Hello, hello... HELLO world! it's 3am\n", 3))
for k, (content, n) in enumerate(cases):
    path = os.path.join(tmp, f"in{k}.txt")
    with open(path, "w") as f:
        f.write(content)
    args = ["python3", "-E", "-s", "/app/wordfreq.py", path] + ([str(n)] if n is not None else [])
    r = agent(args, capture_output=True, text=True, timeout=10)
    want = gen.expected(content, n or 10)
    got = "".join(l.rstrip() + "\n" for l in r.stdout.strip().splitlines())
    if r.returncode != 0 or got != want:
        sys.exit(f"FAIL: case {k} (N={n}): rc={r.returncode}\ngot:\n{r.stdout}{r.stderr[-500:]}\nwant:\n{want}")
print("ok")
