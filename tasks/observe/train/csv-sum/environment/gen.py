"""Generates one instance of this task in /app from TASK_SEED: /app/sales.csv, a header and 4-8 rows, with
a qty column among other columns in a random order.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

ITEMS = "pen cup hat map box bag mug jar".split()


def build(rng):
    header = rng.sample(["item", "qty", "price"], 3)
    rows = [{"item": rng.choice(ITEMS), "qty": rng.randint(1, 99), "price": rng.randint(1, 99)}
            for _ in range(rng.randint(4, 8))]
    lines = [",".join(header)] + [",".join(str(r[h]) for h in header) for r in rows]
    return {"sales.csv": "\n".join(lines) + "\n"}, str(sum(r["qty"] for r in rows))


MTIME = 1_700_000_000  # 2023-11-14 22:13 UTC


def write(files, root="/app"):
    """files maps a path relative to root to str or (str, mode); a path ending in '/' is a directory."""
    for rel, content in files.items():
        content, mode = content if isinstance(content, tuple) else (content, None)
        path = os.path.join(root, rel)
        if rel.endswith("/"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
        if mode is not None:
            os.chmod(path, mode)
    # one fixed time on everything (as files unpacked from an archive): `ls -l` prints the same on every run
    for d, dirs, names in os.walk(root):
        for name in dirs + names:
            os.utime(os.path.join(d, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


if __name__ == "__main__":
    files, _ = build(random.Random(int(os.environ.get("TASK_SEED", "0"))))
    write(files)
