import os, subprocess, sys, tempfile

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

# Git never runs the repository's own programs here: no fsmonitor, no hooks, no system or global config
# (safe.directory from the command line, a protected scope), and it runs as nobody like the agent's code.
GIT = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "safe.directory=*"]
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


sys.path.insert(0, "/tests")
import gen

seed = int(os.environ.get("TASK_SEED", "0"))
orig_head = gen.build(os.path.join(tempfile.mkdtemp(), "repo"), seed)
_, _, expected = gen.plan(seed)


def git(*args):
    return agent([*GIT, "-C", "/app/repo", *args], capture_output=True, text=True, env=GIT_ENV)


if git("symbolic-ref", "--short", "HEAD").stdout.strip() != "main":
    sys.exit("FAIL: main is not checked out")
head = git("rev-parse", "main").stdout.strip()
if head == orig_head:
    sys.exit("FAIL: main has no new commit")
if git("merge-base", "--is-ancestor", orig_head, "main").returncode != 0:
    sys.exit("FAIL: history was rewritten (original head is not an ancestor of main)")
if git("status", "--porcelain").stdout.strip():
    sys.exit("FAIL: working tree is not clean")
files = git("ls-tree", "-r", "--name-only", "main").stdout.split()
if sorted(files) != sorted(expected):
    sys.exit(f"FAIL: files in main are {sorted(files)}, expected {sorted(expected)}")
for path, content in expected.items():
    if git("show", f"main:{path}").stdout != content:
        sys.exit(f"FAIL: {path} in main does not have the expected content")
print("ok")
