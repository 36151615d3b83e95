"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "ada bo cy di ed fe gu ha io ju ka lu".split()


def build(rng):
    cols = ["id", "name", "email", "country", "age"]
    rng.shuffle(cols)
    rows, exp = [",".join(cols)], ["email,name"]
    for i in range(rng.randint(8, 25)):
        n = rng.choice(NAMES) + str(i)
        rec = {"id": str(i), "name": n, "email": f"{n}@example.com", "country": rng.choice(["pt", "no", "jp"]),
               "age": str(rng.randint(18, 80))}
        rows.append(",".join(rec[c] for c in cols))
        exp.append(f"{rec['email']},{rec['name']}")
    return {"users.csv": "\n".join(rows) + "\n"}, exp


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
