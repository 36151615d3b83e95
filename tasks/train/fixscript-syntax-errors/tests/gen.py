"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

SCRIPT = """#!/bin/bash
# Usage: sum_column.sh FILE.csv
# Prints the sum of the second column (integers) of a CSV file with a header line.
total=0
first=1
while IFS=, read -r name value; do
    if [ $first -eq 1 ]
        first=0
        continue
    fi
    total=$((total + value)
done < "$1"
echo $total
"""


def make_csv(rng):
    rows = [(f"item{i}", rng.randint(-50, 500)) for i in range(rng.randint(1, 25))]
    return "name,value\n" + "".join(f"{n},{v}\n" for n, v in rows), sum(v for _, v in rows)


def build(rng):
    return {"sum_column.sh": (SCRIPT, 0o755), "data.csv": make_csv(rng)[0]}, None


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
