"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

DIRS = "src tmp cache build old out logs misc".split()


def build(rng):
    files, keep = {}, {}
    for i in range(rng.randint(10, 18)):
        path = os.path.join("workspace", *rng.sample(DIRS, rng.randint(0, 3)), f"f{i}.txt")
        content = "" if rng.random() < 0.45 else f"data {rng.random()}\n"
        files[path] = content
        if content:
            keep[path] = content
    for _ in range(3):
        files[os.path.join("workspace", *rng.sample(DIRS, rng.randint(1, 2))) + "/"] = None
    files["workspace/empty_marker.txt"] = ""
    return files, keep


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
