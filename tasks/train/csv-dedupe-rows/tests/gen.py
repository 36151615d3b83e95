"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    uniq = [f"{rng.randint(1, 999)},{rng.choice(['red', 'green', 'blue'])},{rng.randint(0, 50)}" for _ in range(rng.randint(8, 20))]
    uniq = list(dict.fromkeys(uniq))
    rows = uniq + [rng.choice(uniq) for _ in range(rng.randint(3, 12))]
    rng.shuffle(rows)
    head = "sku,color,qty"
    return {"records.csv": "\n".join([head] + rows) + "\n"}, [head] + list(dict.fromkeys(rows))


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
