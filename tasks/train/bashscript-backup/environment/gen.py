"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def make_src(rng, prefix):
    files = {}
    for i in range(rng.randint(1, 6)):
        files[f"{prefix}/{rng.choice(['file', 'my file', 'x'])}{i}.{rng.choice(['txt', 'cfg', 'dat'])}"] = f"{rng.random()}\n"
    files[f"{prefix}/nested/skip.txt"] = "skip\n"
    return files


def build(rng):
    return make_src(rng, "sample"), None


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
