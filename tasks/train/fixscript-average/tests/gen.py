"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

SCRIPT = """#!/bin/bash
# Usage: average.sh FILE
# Prints the average (rounded down) of the non-negative integers in FILE, one per line.
total=0
count=0
while read -r n; do
    total=$total+$n
    count=$count+1
done < "$1"
echo $total / $count
"""


def make_values(rng):
    return [rng.randint(0, 1000) for _ in range(rng.randint(2, 30))]


def build(rng):
    return {"average.sh": (SCRIPT, 0o755), "values.txt": "".join(f"{x}\n" for x in make_values(rng))}, None


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
