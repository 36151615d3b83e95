"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

MODES = [0o600, 0o640, 0o444, 0o755, 0o700, 0o750, 0o664, 0o400, 0o711]


def build(rng):
    files, exp, spec = {}, {}, []
    for i in range(rng.randint(5, 12)):
        rel = os.path.join(rng.choice(["", "etc", "var/run", "opt"]), f"item{i}")
        files["files/" + rel] = (f"{rel}\n", 0o644)
        exp["files/" + rel] = 0o644
        if rng.random() < 0.7 or not spec:
            m = rng.choice(MODES)
            spec.append(f"{m:o} {rel}")
            exp["files/" + rel] = m
    files["modes.txt"] = "\n".join(spec) + "\n"
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
