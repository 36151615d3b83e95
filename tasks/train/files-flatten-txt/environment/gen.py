"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

DIRS = "a b c d e f g h".split()


def build(rng):
    files, exp = {}, {}
    for i in range(rng.randint(8, 16)):
        path = "/".join(rng.sample(DIRS, rng.randint(0, 3)))
        ext = rng.choice(["txt", "txt", "dat", "log", "txt.bak"])
        name = f"file{i}_{rng.randint(0, 99)}.{ext}"
        content = f"{name} {rng.random()}\n"
        files[os.path.join("nested", path, name)] = content
        if ext == "txt":
            exp[name] = content
    if not exp:
        files["nested/top.txt"] = exp["top.txt"] = "top\n"
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
