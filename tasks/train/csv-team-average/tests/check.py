"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import re
import sys

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def read(rel):
    with open(os.path.join("/app", rel)) as f:
        return f.read()


def check():
    got = read("team_avg.csv").strip("\n").split("\n")
    assert got[0].strip() == "team,average", f"header {got[0]!r}"
    rows = [r.split(",") for r in got[1:]]
    assert [t for t, _ in rows] == list(exp), f"teams {[t for t, _ in rows]}, want {list(exp)}"
    for t, a in rows:
        assert re.fullmatch(r"\d+\.\d\d", a.strip()), f"{t}: {a!r} is not a two-decimal number"
        assert abs(float(a) - exp[t]) <= 0.0051, f"{t}: {a}, want {exp[t]:.4f}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
