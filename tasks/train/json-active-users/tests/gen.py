"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import json

NAMES = "ada bob cid dee eve fay gil hal ivy jon kat lee mo ned".split()


def build(rng):
    users = [{"id": i, "name": f"{rng.choice(NAMES)}{i}", "email": f"u{i}@example.com", "active": rng.random() < 0.5}
             for i in range(rng.randint(8, 25))]
    users[rng.randrange(len(users))]["active"] = True
    return {"users.json": json.dumps(users, indent=2) + "\n"}, [u["name"] for u in users if u["active"]]


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
