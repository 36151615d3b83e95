"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the files it expects under
/app. It only reads files: no program the agent could have changed is run. Each expectation is
  "text"              the file's content, surrounding whitespace aside
  ["exists"]          the file exists          ["absent"]   it does not
  ["line", "k=v"]     one of the file's lines is k=v (surrounding whitespace aside)
  ["none", ".ext"]    the directory holds no file ending in .ext"""
import os
import random
import sys

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, want = build(random.Random(SEED))


def read(path):
    with open(path) as f:
        return f.read()


def check():
    for rel, spec in want.items():
        path = os.path.join("/app", rel)
        if isinstance(spec, str):
            got = read(path).strip()
            assert got == spec, f"{rel}: got {got[:80]!r}, want {spec!r}"
        elif spec[0] == "exists":
            assert os.path.isfile(path), f"{rel}: missing"
        elif spec[0] == "absent":
            assert not os.path.lexists(path), f"{rel}: still there"
        elif spec[0] == "line":
            lines = [line.strip() for line in read(path).splitlines()]
            assert spec[1] in lines, f"{rel}: no line {spec[1]!r} in {lines[:5]!r}"
        elif spec[0] == "none":
            held = [n for n in os.listdir(path) if n.endswith(spec[1])]
            assert not held, f"{rel}: still holds {held}"
        else:
            raise ValueError(f"unknown expectation {spec!r}")


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
