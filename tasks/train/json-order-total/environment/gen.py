"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import json


def build(rng):
    orders, cents = [], 0
    for o in range(rng.randint(3, 10)):
        items = []
        for _ in range(rng.randint(1, 5)):
            qty, p = rng.randint(1, 9), rng.randint(50, 20000)
            cents += qty * p
            items.append({"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": qty, "price": p / 100})
        orders.append({"id": 100 + o, "customer": f"c{rng.randint(1, 50)}", "items": items})
    return {"orders.json": json.dumps({"orders": orders}, indent=2) + "\n"}, f"{cents // 100}.{cents % 100:02d}"


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
