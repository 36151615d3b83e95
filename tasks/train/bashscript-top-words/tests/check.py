"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, "/tests")
from gen import build, make_text, top  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 13)
    for case in range(4):
        text, n = make_text(hidden), hidden.randint(1, 6)
        path = os.path.join(tempfile.mkdtemp(), "in put.txt")
        with open(path, "w") as f:
            f.write(text)
        r = sh("/app/topwords.sh", path, str(n))
        got = [" ".join(line.split()) for line in r.stdout.strip().splitlines()]
        assert got == top(text, n), f"case {case}: got {got}, want {top(text, n)}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
