"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

MODES = [0o644, 0o666, 0o600, 0o777, 0o664, 0o646, 0o755, 0o640, 0o662]


def build(rng):
    files, exp = {}, {}
    for i in range(rng.randint(6, 14)):
        rel = os.path.join(*rng.sample(["a", "b", "c"], rng.randint(0, 2)), f"file{i}.dat")
        m = rng.choice(MODES)
        files["shared/" + rel] = (f"{rel}\n", m)
        exp[rel] = m
    files["shared/open.txt"], exp["open.txt"] = ("open\n", 0o666), 0o666
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
