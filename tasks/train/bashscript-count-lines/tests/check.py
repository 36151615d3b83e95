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
    hidden = random.Random(SEED * 1000 + 7)
    for case in range(5):
        tmp = tempfile.mkdtemp()
        fs, total = make_dir(hidden, "dir")
        if case == 0:
            fs, total = {"dir/only.csv": "a\n"}, 0
        fs["dir/"] = None
        write(fs, tmp)
        r = sh("/app/count_lines.sh", os.path.join(tmp, "dir"))
        assert r.stdout.strip() == str(total), f"case {case}: printed {r.stdout.strip()!r}, want {total}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
