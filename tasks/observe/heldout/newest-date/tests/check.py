"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and compares /app/answer.txt with the
expected answer (surrounding whitespace, a trailing newline say, does not matter)."""
import os
import random
import sys

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, want = build(random.Random(SEED))


def check():
    with open("/app/answer.txt") as f:
        got = f.read().strip()
    assert got == want, f"answer.txt: got {got[:80]!r}, want {want!r}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
