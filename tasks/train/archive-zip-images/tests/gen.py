"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    files, exp = {}, {}
    for i in range(rng.randint(5, 12)):
        d = os.path.join("assets", *rng.sample(["img", "icons", "raw", "ui"], rng.randint(0, 2)))
        ext = rng.choice(["png", "png", "jpg", "svg"])
        data = b"\x89PNG" + bytes(rng.getrandbits(8) for _ in range(rng.randint(50, 400)))
        files[os.path.join(d, f"pic{i}.{ext}")] = data
        if ext == "png":
            exp[f"pic{i}.png"] = data
    files["assets/logo.png"] = exp["logo.png"] = b"\x89PNGlogo"
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
