"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, "/tests")
from gen import build, make_numbers  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 19)
    cases = [make_numbers(hidden) for _ in range(4)] + [[-5, -9, -2], [7]]
    for xs in cases:
        path = os.path.join(tempfile.mkdtemp(), "n.txt")
        with open(path, "w") as f:
            f.write("".join(f"{x}\n" for x in xs))
        r = sh("/app/stats.sh", path)
        got = [" ".join(line.split()) for line in r.stdout.strip().splitlines()]
        want = [f"min {min(xs)}", f"max {max(xs)}", f"sum {sum(xs)}"]
        assert got == want, f"input {xs}: got {got}, want {want}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
