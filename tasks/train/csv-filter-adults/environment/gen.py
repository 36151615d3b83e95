"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "Ana Ben Cleo Dev Ema Finn Gia Hugo Ines Jon Kia Leo Mia Nico Oda Pau".split()
CITIES = "Lisbon Oslo Quito Rome Seoul Tokyo Lima Kyiv".split()


def build(rng):
    rows = [f"{i},{rng.choice(NAMES)},{rng.choice([rng.randint(1, 17), rng.randint(19, 90), 18])},{rng.choice(CITIES)}"
            for i in range(1, rng.randint(15, 40))]
    head = "id,name,age,city"
    return {"people.csv": "\n".join([head] + rows) + "\n"}, [head] + [r for r in rows if int(r.split(",")[2]) >= 18]


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
