"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    names = rng.sample(range(1000, 9999), rng.randint(14, 22))
    blobs = [bytes(rng.getrandbits(8) for _ in range(rng.randint(200, 800))) for _ in range(rng.randint(5, 9))]
    files, groups = {}, {}
    for i, n in enumerate(names):
        blob = blobs[i] if i < len(blobs) else rng.choice(blobs)
        name = f"IMG_{n}.jpg"
        files["photos/" + name] = blob
        groups.setdefault(blob, []).append(name)
    return files, {min(g): blob for blob, g in groups.items()}


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
