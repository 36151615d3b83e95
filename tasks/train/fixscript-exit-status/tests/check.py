"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, "/tests")
from gen import build, make_list  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 37)
    for case in range(4):
        tmp = tempfile.mkdtemp()
        paths, exists = make_list(hidden, tmp)
        if case == 0:
            exists = {p: True for p in paths}
        if case == 1:
            exists[paths[0]] = False
        for p in paths:
            if exists[p]:
                open(p, "w").close()
        with open(os.path.join(tmp, "list"), "w") as f:
            f.write("\n".join(paths) + "\n")
        r = sh("/app/check_files.sh", os.path.join(tmp, "list"))
        miss = [f"missing: {p}" for p in paths if not exists[p]]
        want_out, want_rc = (miss, 1) if miss else (["all present"], 0)
        got = [line.rstrip() for line in r.stdout.strip().splitlines()]
        assert got == want_out, f"case {case}: printed {got}, want {want_out}"
        assert r.returncode == want_rc, f"case {case}: exit status {r.returncode}, want {want_rc}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
