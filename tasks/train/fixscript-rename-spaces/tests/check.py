"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, "/tests")
from gen import build, write, make_dir  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 23)
    for case in range(3):
        tmp = tempfile.mkdtemp()
        fs = make_dir(hidden, "my dir")
        write(fs, tmp)
        r = sh("/app/rename_ext.sh", os.path.join(tmp, "my dir"), "txt", "md")
        want = sorted(os.path.basename(p)[:-4] + ".md" if p.endswith(".txt") else os.path.basename(p) for p in fs)
        got = sorted(os.listdir(os.path.join(tmp, "my dir")))
        assert got == want, f"case {case}: files {got}, want {want} (stderr: {r.stderr[:300]})"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
