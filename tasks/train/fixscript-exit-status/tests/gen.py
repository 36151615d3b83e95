"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

SCRIPT = """#!/bin/bash
# Usage: check_files.sh LIST
# Reports paths from LIST that do not exist; exits 1 if any is missing.
missing=0
cat "$1" | while read -r p; do
    if [ ! -e "$p" ]; then
        echo "missing: $p"
        missing=1
    fi
done
if [ $missing -eq 1 ]; then
    exit 1
fi
echo "all present"
"""


def make_list(rng, root):
    paths = [f"{root}/file{i}.txt" for i in range(rng.randint(2, 8))]
    exists = {p: rng.random() < 0.6 for p in paths}
    return paths, exists


def build(rng):
    paths, exists = make_list(rng, "/app/data")
    files = {p[5:]: "x\n" for p in paths if exists[p]}
    files.update({"check_files.sh": (SCRIPT, 0o755), "list.txt": "\n".join(paths) + "\n", "data/": None})
    return files, None


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
