"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import sys

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def read(rel):
    with open(os.path.join("/app", rel)) as f:
        return f.read()


def check():
    root = "/app/workspace"
    assert os.path.isdir(root), "workspace was deleted"
    got_files, got_dirs = set(), set()
    for d, ds, fs in os.walk(root):
        got_files |= {os.path.relpath(os.path.join(d, f), "/app") for f in fs}
        got_dirs |= {os.path.relpath(os.path.join(d, x), "/app") for x in ds}
    assert got_files == set(exp), f"files: got {sorted(got_files)}, want {sorted(exp)}"
    want_dirs = {os.path.dirname(p) for p in exp}
    want_dirs = {"/".join(p.split("/")[:i]) for p in want_dirs for i in range(2, p.count("/") + 2)}
    assert got_dirs == want_dirs, f"dirs: got {sorted(got_dirs)}, want {sorted(want_dirs)}"
    for rel, content in exp.items():
        assert read(rel) == content, f"{rel} changed"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
