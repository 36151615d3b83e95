"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

DIRS = "src lib tests docs assets config scripts build data utils api models views".split()
FILES = "main.py README.md index.html app.js util.sh notes.txt setup.cfg style.css schema.sql".split()


def build(rng):
    entries = set()
    for _ in range(rng.randint(5, 9)):
        parts = rng.sample(DIRS, rng.randint(1, 3))
        if rng.random() < 0.3:
            entries.add("/".join(parts) + "/")
        else:
            entries.add("/".join(parts + [rng.choice(FILES)]))
    entries = sorted(entries)
    dirs, leaf_files = set(), set()
    for e in entries:
        parts = e.rstrip("/").split("/")
        for i in range(1, len(parts)):
            dirs.add("/".join(parts[:i]))
        (dirs if e.endswith("/") else leaf_files).add(e.rstrip("/"))
    rng.shuffle(entries)
    return {"layout.txt": "\n".join(entries) + "\n"}, {"dirs": dirs, "files": leaf_files}


def write(files, root="/app"):
    """files maps a path relative to root to str | bytes | (content, mode); a path ending in '/' is a directory."""
    for rel, content in files.items():
        content, mode = content if isinstance(content, tuple) else (content, None)
        path = os.path.join(root, rel)
        if rel.endswith("/"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb" if isinstance(content, bytes) else "w") as f:
                f.write(content)
        if mode is not None:
            os.chmod(path, mode)


if __name__ == "__main__":
    files, _ = build(random.Random(int(os.environ.get("TASK_SEED", "0"))))
    write(files)
