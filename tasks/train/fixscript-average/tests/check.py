"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import subprocess
import sys
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
from gen import build, make_values  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return agent(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 41)
    for xs in [make_values(hidden) for _ in range(4)] + [[5], [1, 2]]:
        path = os.path.join(scratch(), "v.txt")
        with open(path, "w") as f:
            f.write("".join(f"{x}\n" for x in xs))
        r = sh("/app/average.sh", path)
        want = sum(xs) // len(xs)
        assert r.stdout.strip() == str(want), f"input {xs}: printed {r.stdout.strip()!r}, want {want}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
