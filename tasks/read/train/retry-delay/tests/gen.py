"""Generates one instance of this task in /app from TASK_SEED: /app/fetch.py refuses to run without the
--delay its error names, then prints a token: two reads, the second only reachable through the first.

build(rng) returns (files, answer); tests/gen.py is an identical copy.
"""
import os
import random

BODY = """import sys
args = sys.argv[1:]
if args != ["--delay", str(DELAY)]:
    sys.exit(f"Error: rate limited; retry with --delay {DELAY}")
print("data: " + "".join(chr(c) for c in CODES))
"""


def build(rng):
    delay = rng.randint(2, 30)
    token = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(8))
    files = {"fetch.py": f"DELAY = {delay}\nCODES = {[ord(c) for c in token]!r}\n" + BODY}
    return files, {"answer.txt": token}


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
