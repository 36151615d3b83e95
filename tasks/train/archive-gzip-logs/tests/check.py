"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import gzip
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
    for rel, content in exp.items():
        if rel.endswith(".log"):
            assert not os.path.exists("/app/" + rel), f"{rel} still exists"
            with gzip.open("/app/" + rel + ".gz", "rt") as f:
                assert f.read() == content, f"{rel}.gz: wrong content"
        else:
            assert read(rel) == content, f"{rel} was modified"
            assert not os.path.exists("/app/" + rel + ".gz"), f"{rel} should not be compressed"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
