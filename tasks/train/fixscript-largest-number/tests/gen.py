"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

SCRIPT = """#!/bin/bash
# Usage: largest.sh FILE
# Prints the largest integer in FILE (one integer per line).
max=0
while read n; do
    if [ $n > $max ]; then
        max=$n
    fi
done < "$1"
echo $max
"""


def make_numbers(rng):
    xs = [rng.randint(-500, 500) for _ in range(rng.randint(3, 20))]
    xs.append(min(xs) - 1)  # the maximum is never the last line
    return xs


def build(rng):
    return {"largest.sh": (SCRIPT, 0o755), "numbers.txt": "".join(f"{x}\n" for x in make_numbers(rng))}, None


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
