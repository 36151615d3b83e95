"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

CATS = "food rent travel books fuel gifts health phone internet coffee".split()


def build(rng):
    out, tot = [], {}
    for _ in range(rng.randint(20, 80)):
        c, a = rng.choice(CATS), rng.randint(1, 500)
        tot[c] = tot.get(c, 0) + a
        out.append(f"{c} {a}")
    return {"expenses.txt": "\n".join(out) + "\n"}, [f"{c} {tot[c]}" for c in sorted(tot)]


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
