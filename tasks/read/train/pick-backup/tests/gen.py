"""Generates one instance of this task in /app from TASK_SEED: three or four backups in /app/backups, and
/app/verify.py, which checks a backup's checksum against the one it expects. Only one passes; which one is
seen by running it (or by computing the checksums it holds).

build(rng) returns (files, answer); tests/gen.py is an identical copy.
"""
import hashlib
import os
import random

BODY = """import hashlib, os, sys
path = sys.argv[1]
name = os.path.basename(path)
got = hashlib.sha256(open(path, "rb").read()).hexdigest()[:12]
if EXPECTED.get(name) == got:
    print(f"{name}: checksum OK")
else:
    sys.exit(f"{name}: checksum MISMATCH (expected {EXPECTED.get(name, '?')}, got {got})")
"""


def build(rng):
    names = sorted({f"{word(rng)}.bak" for _ in range(rng.choice([3, 4]))})
    good = rng.choice(names)
    files, expected = {}, {}
    for name in names:
        content = "".join(rng.choice("0123456789abcdef") for _ in range(32)) + "\n"
        files[f"backups/{name}"] = content
        digest = hashlib.sha256(content.encode()).hexdigest()[:12]
        expected[name] = digest if name == good else digest[::-1]
    files["verify.py"] = f"EXPECTED = {expected!r}\n" + BODY
    return files, {"answer.txt": good}


SYLLABLES = "ka lo mi ne ru ta vo zi be du".split()


def word(rng):
    """A made-up name of three syllables (1,000 of them): no list an agent could guess from."""
    return "".join(rng.choice(SYLLABLES) for _ in range(3))


MTIME = 1_700_000_000  # 2023-11-14 22:13 UTC


def write(files, root="/app"):
    """files maps a path relative to root to str or (str, mode); a path ending in '/' is a directory."""
    for rel, content in files.items():
        content, mode = content if isinstance(content, tuple) else (content, None)
        path = os.path.join(root, rel)
        if rel.endswith("/"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
        if mode is not None:
            os.chmod(path, mode)
    # one fixed time on everything (as files unpacked from an archive): `ls -l` prints the same on every run
    for d, dirs, names in os.walk(root):
        for name in dirs + names:
            os.utime(os.path.join(d, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


if __name__ == "__main__":
    files, _ = build(random.Random(int(os.environ.get("TASK_SEED", "0"))))
    write(files)
