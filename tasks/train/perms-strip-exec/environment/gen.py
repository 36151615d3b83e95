"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

MODES = [0o755, 0o775, 0o744, 0o711, 0o644, 0o777, 0o700, 0o750]


def build(rng):
    files, exp = {}, {}
    for d in ["", "guides", "guides/old", "specs"]:
        if d:
            m = rng.choice([0o755, 0o775, 0o750])
            files[f"docs/{d}/"] = (None, m)
            exp[f"docs/{d}"] = m
        for i in range(rng.randint(1, 4)):
            rel = os.path.join("docs", d, f"doc{i}.md")
            m = rng.choice(MODES)
            files[rel] = (f"# {rel}\n", m)
            exp[rel] = m & ~0o111
    files["docs/index.md"], exp["docs/index.md"] = ("# index\n", 0o755), 0o644
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
