"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "Abe Bea Cal Dee Eli Fox Gil Hal Ivy Jay Kim Lou Max Ned Oli Pam Quin Rae Sam Tia".split()
DEPTS = "eng sales ops hr legal".split()


def build(rng):
    rows = [(n, rng.choice(DEPTS), rng.choice([50000, 60000, 75000, rng.randint(30, 150) * 1000]))
            for n in rng.sample(NAMES, rng.randint(8, len(NAMES)))]
    text = "\n".join(["name,department,salary"] + [f"{n},{d},{s}" for n, d, s in rows]) + "\n"
    rows.sort(key=lambda r: (-r[2], r[0]))
    return {"employees.csv": text}, ["name,department,salary"] + [f"{n},{d},{s}" for n, d, s in rows]


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
