"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "lamp desk chair shelf rug mirror clock vase sofa stool".split()


def build(rng):
    rows, exp = ["sku,name,qty,price"], []
    for _ in range(rng.randint(5, 15)):
        it = {"sku": f"S{rng.randint(10000, 99999)}", "name": rng.choice(NAMES), "qty": rng.randint(0, 500),
              "price": rng.randint(100, 99999) / 100}
        rows.append(f"{it['sku']},{it['name']},{it['qty']},{it['price']}")
        exp.append(it)
    return {"inventory.csv": "\n".join(rows) + "\n"}, exp


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
