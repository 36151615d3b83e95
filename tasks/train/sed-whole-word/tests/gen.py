"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import re

WORDS = ["the", "cat", "sat", "on", "a", "mat", "category", "cats", "bobcat", "concatenate", "Cat", "and",
         "cat,", "dog", "scatter", "cat.", "ran", "away"]


def build(rng):
    out = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 14))) for _ in range(rng.randint(15, 30))]
    out.append("the cat came back")
    text = "\n".join(out) + "\n"
    return {"story.txt": text}, re.sub(r"\bcat\b", "dog", text)


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
