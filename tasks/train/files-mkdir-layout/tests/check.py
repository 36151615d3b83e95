"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import sys

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def check():
    root = "/app/project"
    dirs, fs = set(), set()
    for d, ds, names in os.walk(root):
        dirs |= {os.path.relpath(os.path.join(d, x), root) for x in ds}
        fs |= {os.path.relpath(os.path.join(d, x), root) for x in names}
    assert dirs == exp["dirs"], f"directories: got {sorted(dirs)}, want {sorted(exp['dirs'])}"
    assert fs == exp["files"], f"files: got {sorted(fs)}, want {sorted(exp['files'])}"
    for f in fs:
        assert os.path.getsize(os.path.join(root, f)) == 0, f"{f} is not empty"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
