"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import json

PARTS = "bolt nut screw washer gear spring hinge rivet bearing clamp valve pipe".split()


def build(rng):
    items = [{"id": i, "name": rng.choice(PARTS), "stock": rng.randint(0, 99)}
             for i in rng.sample(range(1, 500), rng.randint(6, 20))]
    return {"items.json": json.dumps(items, indent=2) + "\n"}, {str(it["id"]): it["name"] for it in items}


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
