"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    files, big = {}, []
    for i in range(rng.randint(10, 16)):
        rel = os.path.join(*rng.sample(["raw", "tmp", "old", "img"], rng.randint(0, 2)), f"blob{i}.bin")
        size = rng.choice([rng.randint(10, 4000), rng.randint(4097, 6000), 4096])
        files["data/" + rel] = bytes(rng.getrandbits(8) for _ in range(size))
        if size > 4096:
            big.append(rel)
    if not big:
        files["data/huge.bin"], big = b"x" * 5000, ["huge.bin"]
    return files, sorted(big)


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
