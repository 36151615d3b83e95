"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

ITEMS = "apple pear plum kiwi mango grape lemon lime peach cherry melon fig".split()


def build(rng):
    out, cents = [], 0
    for _ in range(rng.randint(15, 60)):
        qty, price = rng.randint(1, 40), rng.randint(10, 9999)
        cents += qty * price
        out.append(f"{rng.choice(ITEMS)} {qty} {price // 100}.{price % 100:02d}")
    return {"sales.txt": "\n".join(out) + "\n"}, f"{cents // 100}.{cents % 100:02d}"


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
