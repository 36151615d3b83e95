"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "Ada Bo Cyd Dov Eza Fen Gro Hux Ike Jax Kip Lux Moe Nan".split()


def build(rng):
    names = rng.sample(NAMES, rng.randint(5, len(NAMES)))
    ids = rng.sample(range(100, 999), len(names))
    cust = ["customer_id,name"] + [f"{i},{n}" for i, n in zip(ids, names)]
    orders, tot = ["order_id,customer_id,amount"], {}
    for o in range(rng.randint(15, 50)):
        k, cents = rng.randrange(len(names) - 1), rng.randint(100, 99999)  # the last customer has no orders
        tot[names[k]] = tot.get(names[k], 0) + cents
        orders.append(f"{5000 + o},{ids[k]},{cents // 100}.{cents % 100:02d}")
    exp = ["name,total"] + [f"{n},{tot[n] // 100}.{tot[n] % 100:02d}" for n in sorted(tot)]
    return {"customers.csv": "\n".join(cust) + "\n", "orders.csv": "\n".join(orders) + "\n"}, exp


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
