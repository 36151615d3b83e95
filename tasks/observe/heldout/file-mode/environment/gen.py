"""Generates one instance of this task in /app from TASK_SEED: /app/secret.key and 1-3 other files, each
with its own permission bits (the owner can always read).

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

NAMES = ["notes.txt", "run.sh", "public.key", "data.csv", "todo.md"]


def mode(rng):
    """Permission bits such as 0o640: owner r, rw or rwx; group none to rwx; others none, r or r-x."""
    return rng.choice([4, 6, 7]) * 64 + rng.choice([0, 4, 5, 6, 7]) * 8 + rng.choice([0, 4, 5])


def build(rng):
    files = {"secret.key": (f"key-{rng.randint(1000, 9999)}\n", mode(rng))}
    files.update({name: ("x\n", mode(rng)) for name in rng.sample(NAMES, rng.randint(1, 3))})
    return files, f"{files['secret.key'][1]:o}"


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
