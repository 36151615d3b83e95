"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import sys
import tarfile

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def check():
    with tarfile.open("/app/backup.tar.gz", "r:gz") as tar:
        got = {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert set(got) == set(exp), f"members: got {sorted(got)}, want {sorted(exp)}"
    for name, data in exp.items():
        assert got[name] == data, f"{name}: wrong content"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
