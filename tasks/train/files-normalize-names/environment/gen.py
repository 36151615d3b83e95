"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

WORDS = "Meeting Notes Quarterly Report Draft FINAL Budget Plan Team Review Summary Old New Copy Ideas".split()
EXTS = ["TXT", "txt", "Md", "PDF", "csv"]


def build(rng):
    files, exp, n = {}, {}, rng.randint(6, 10)
    while len(files) < n:
        words = rng.sample(WORDS, rng.randint(1, 3)) + [str(rng.randint(1, 99))] * rng.randint(0, 1)
        name = " ".join(words) + "." + rng.choice(EXTS)
        norm = name.lower().replace(" ", "_")
        if norm in exp or name == norm:
            continue
        content = f"{name}: {rng.random()}\n"
        files["docs/" + name] = content
        exp[norm] = content
    return files, exp


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
