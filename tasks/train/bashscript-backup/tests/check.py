"""Verifier: rebuilds this instance from TASK_SEED with gen.build() and checks the final state of /app."""
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, "/tests")
from gen import build, write, make_src  # noqa: E402

SEED = int(os.environ.get("TASK_SEED", "0"))
files, exp = build(random.Random(SEED))


def sh(*args):
    """Runs `bash ARGS...` (an agent-written script) with a time limit."""
    return subprocess.run(["bash", *args], capture_output=True, text=True, timeout=20)


def check():
    hidden = random.Random(SEED * 1000 + 11)
    for case in range(3):
        tmp = tempfile.mkdtemp()
        fs = make_src(hidden, "src")
        write(fs, tmp)
        dest = os.path.join(tmp, "out", "backups")
        r = sh("/app/backup.sh", os.path.join(tmp, "src"), dest)
        assert r.returncode == 0, f"exit status {r.returncode}: {r.stderr}"
        want = {os.path.basename(p) + ".bak": c for p, c in fs.items() if "/nested/" not in p}
        got = sorted(os.listdir(dest))
        assert got == sorted(want), f"DEST has {got}, want {sorted(want)}"
        for name, content in want.items():
            with open(os.path.join(dest, name)) as f:
                assert f.read() == content, f"{name}: wrong content"
    tmp = tempfile.mkdtemp()
    r = sh("/app/backup.sh", os.path.join(tmp, "missing"), os.path.join(tmp, "dest"))
    assert r.returncode == 1, f"missing SRC: exit status {r.returncode}, want 1"
    assert r.stderr.strip(), "missing SRC: nothing printed on stderr"
    assert not os.path.exists(os.path.join(tmp, "dest")), "missing SRC: DEST was created"


if __name__ == "__main__":
    try:
        check()
    except Exception as e:  # a missing file or a wrong value both mean reward 0
        print(f"FAIL: {type(e).__name__}: {e}")
        sys.exit(1)
    print("OK")
