"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    files, exp = {"secrets/": (None, 0o755)}, {"secrets": 0o700}
    for d in rng.sample(["keys", "certs", "tokens", "old", "ssh"], rng.randint(1, 3)):
        files[f"secrets/{d}/"] = (None, rng.choice([0o755, 0o775, 0o750]))
        exp[f"secrets/{d}"] = 0o700
        for i in range(rng.randint(1, 4)):
            files[f"secrets/{d}/s{i}.pem"] = (f"secret {rng.random()}\n", rng.choice([0o644, 0o664, 0o640, 0o755]))
            exp[f"secrets/{d}/s{i}.pem"] = 0o600
    files["secrets/master.key"] = (f"key {rng.random()}\n", 0o644)
    exp["secrets/master.key"] = 0o600
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
