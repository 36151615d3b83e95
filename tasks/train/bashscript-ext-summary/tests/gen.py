"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

EXTS = ["txt", "py", "md", "gz", "json", ""]


def make_tree(rng, prefix):
    files, counts = {}, {}
    for i in range(rng.randint(3, 15)):
        ext = rng.choice(EXTS)
        name = f"f{i}" + (f".{rng.choice(['a', 'b'])}" if rng.random() < 0.2 else "") + (f".{ext}" if ext else "")
        files[os.path.join(prefix, *rng.sample(["x", "y", "z"], rng.randint(0, 2)), name)] = "\n"
        key = name.rsplit(".", 1)[1] if "." in name else "none"
        counts[key] = counts.get(key, 0) + 1
    return files, [f"{e} {counts[e]}" for e in sorted(counts)]


def build(rng):
    return make_tree(rng, "example")[0], None


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
