"""Generates one instance of this task in /app from TASK_SEED: /app/requirements.txt pins a yanked
version of one package; /app/install.py names the available versions, unsorted (1.10 is newer than 1.9):
the agent must read them and pick the newest.

build(rng) returns (files, want); tests/gen.py is an identical copy.
"""
import os
import random

BODY = """import sys
pins = dict(line.split("==") for line in open("/app/requirements.txt").read().split())
have = pins.get(PKG)
if have != max(AVAILABLE, key=lambda v: tuple(map(int, v.split(".")))):
    sys.exit(f"Error: {PKG}=={have} is not installable. Available: {', '.join(AVAILABLE)}")
print(f"installed {PKG} {have}")
"""


def build(rng):
    pkg = word(rng)
    major = rng.randint(1, 4)
    minors = rng.sample(range(2, 15), 4)
    versions = [f"{major}.{m}" for m in minors]
    yanked = f"{major}.{min(minors) - 1}"
    newest = f"{major}.{max(minors)}"
    files = {"install.py": f"PKG = {pkg!r}\nAVAILABLE = {versions!r}\n" + BODY,
             "requirements.txt": f"{pkg}=={yanked}\n"}
    return files, {"requirements.txt": ["line", f"{pkg}=={newest}"]}


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
