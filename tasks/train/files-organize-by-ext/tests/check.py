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
    assert os.path.isdir("/app/inbox") and os.listdir("/app/inbox") == [], "inbox is not empty"
    found = {os.path.relpath(os.path.join(d, f), "/app") for d, _, fs in os.walk("/app/sorted") for f in fs}
    assert found == set(exp), f"files under sorted/: got {sorted(found)}, want {sorted(exp)}"
    for rel, content in exp.items():
        assert read(rel) == content, f"{rel}: content changed"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
