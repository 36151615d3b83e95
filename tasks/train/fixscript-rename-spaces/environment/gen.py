"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

SCRIPT = """#!/bin/bash
# Usage: rename_ext.sh DIR OLD NEW
# Renames every DIR/NAME.OLD to DIR/NAME.NEW.
dir=$1
old=$2
new=$3
for f in $(ls $dir | grep "\\.$old$"); do
    base=${f%.$old}
    mv $dir/$f $dir/$base.$new
done
"""


def make_dir(rng, prefix):
    files = {}
    for i in range(rng.randint(3, 8)):
        files[f"{prefix}/{rng.choice(['report', 'my notes', 'a b c', 'draft'])} {i}.{rng.choice(['txt', 'txt', 'log', 'md'])}"] = f"{i}\n"
    files[f"{prefix}/plain{rng.randint(0, 9)}.txt"] = "p\n"
    return files


def build(rng):
    files = make_dir(rng, "sample")
    files["rename_ext.sh"] = (SCRIPT, 0o755)
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
