"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import re

WORDS = "the quick brown fox jumps over lazy dog and cat The Dog FOX a an it is was run".split()


def make_text(rng):
    return "".join(" ".join(rng.choice(WORDS) + rng.choice(["", ",", ".", "!", "'s", "-x", "42"])
                            for _ in range(rng.randint(3, 12))) + "\n" for _ in range(rng.randint(5, 30)))


def top(text, n):
    counts = {}
    for w in re.findall(r"[A-Za-z]+", text):
        counts[w.lower()] = counts.get(w.lower(), 0) + 1
    return [f"{c} {w}" for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def build(rng):
    return {"sample.txt": make_text(rng)}, None


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
