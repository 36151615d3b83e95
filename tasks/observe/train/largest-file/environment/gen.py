"""Generates one instance of this task in /app from TASK_SEED: 4-6 text files of different sizes (20-300
bytes) in /app/data, named like owl3.dat.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

NAMES = "ant bee cod elk fox gnu hen jay koi owl pig ram yak emu".split()


def build(rng):
    names = [f"{n}{rng.randint(1, 9)}" for n in rng.sample(NAMES, rng.randint(4, 6))]   # 'owl3' 
    sizes = rng.sample(range(20, 300), len(names))     # distinct, so the largest is unique
    files = {f"data/{n}.dat": ("data " * 80)[:size - 1] + "\n" for n, size in zip(names, sizes)}
    return files, names[sizes.index(max(sizes))] + ".dat"


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
