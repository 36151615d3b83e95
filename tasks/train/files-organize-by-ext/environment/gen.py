"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

WORDS = "alpha beta gamma delta report notes budget draft photo scan invoice summary data backup plan".split()
EXTS = ["txt", "csv", "log", "png", "md", "json", "pdf"]


def build(rng):
    files, exp = {"inbox/": None}, {}
    for ext in rng.sample(EXTS, rng.randint(3, 6)):
        for _ in range(rng.randint(1, 4)):
            name = f"{rng.choice(WORDS)}_{rng.randint(1, 999)}.{ext}"
            content = f"{name} {rng.random()}\n"
            files["inbox/" + name] = content
            exp[f"sorted/{ext}/{name}"] = content
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
