"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def make_dir(rng, prefix):
    files, total = {}, 0
    for i in range(rng.randint(0, 5)):
        n = rng.randint(0, 30)
        name = rng.choice([f"f{i}.txt", f"my notes {i}.txt", f"data{i}.csv"])
        files[f"{prefix}/{name}"] = "".join(f"row {j}\n" for j in range(n))
        total += n * name.endswith(".txt")
    files[f"{prefix}/sub/deep.txt"] = "not\ncounted\n"
    return files, total


def build(rng):
    files, total = make_dir(rng, "example")
    return files, total


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
