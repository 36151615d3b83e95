"""Verifier: rebuilds this instance from TASK_SEED with gen.build(), runs /app/report.py and compares what it
prints with the expected output (surrounding whitespace does not matter). /app/report.py itself must be
unchanged."""
import os
import random
import subprocess
import sys

sys.path.insert(0, "/tests")
from gen import build  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, want = build(random.Random(SEED))


def check():
    with open("/app/report.py") as f:
        assert f.read() == files["report.py"], "report.py was edited"
    r = subprocess.run(["python3", "/app/report.py"], capture_output=True, text=True, timeout=30, cwd="/app")
    assert r.returncode == 0, f"report.py exit {r.returncode}: {r.stderr.strip()[-200:]!r}"
    got = r.stdout.strip()
    assert got == want, f"report.py printed {got[:80]!r}, want {want!r}"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a crash, a timeout or a wrong output all mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
