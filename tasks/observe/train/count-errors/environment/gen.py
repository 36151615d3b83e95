"""Generates one instance of this task in /app from TASK_SEED: a short log, /app/app.log, whose lines
start with INFO, WARN or ERROR.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

WORDS = "disk full user login saved cache miss retry timeout job done start stop port open".split()


def build(rng):
    levels = [rng.choice(["INFO", "INFO", "WARN", "ERROR"]) for _ in range(rng.randint(10, 22))]
    levels[rng.randrange(len(levels))] = "ERROR"           # at least one
    lines = [f"{level} {' '.join(rng.sample(WORDS, 2))}" for level in levels]
    return {"app.log": "\n".join(lines) + "\n"}, str(levels.count("ERROR"))


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
