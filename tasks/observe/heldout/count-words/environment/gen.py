"""Generates one instance of this task in /app from TASK_SEED: /app/poem.txt, 2-5 short lines of words.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

WORDS = "the sun sea sky wind rain rose moon star night day song bird tree gold red cold old".split()


def build(rng):
    lines = [" ".join(rng.choices(WORDS, k=rng.randint(2, 8))) for _ in range(rng.randint(2, 5))]
    return {"poem.txt": "\n".join(lines) + "\n"}, str(sum(len(l.split()) for l in lines))


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
