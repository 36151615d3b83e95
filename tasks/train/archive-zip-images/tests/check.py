"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import sys
import zipfile

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def check():
    with zipfile.ZipFile("/app/images.zip") as z:
        got = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    assert set(got) == set(exp), f"zip names: got {sorted(got)}, want {sorted(exp)}"
    for n, data in exp.items():
        assert got[n] == data, f"{n}: wrong content"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
