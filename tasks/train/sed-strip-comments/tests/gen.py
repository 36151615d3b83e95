"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    out = []
    for _ in range(rng.randint(20, 40)):
        out.append(rng.choice([f"# comment {rng.randint(1, 99)}", f"    # indented comment", "", "   ", "\t",
                               f"key{rng.randint(1, 50)} = {rng.randint(1, 999)}", f"item {rng.randint(1, 9)} # inline",
                               f"  value {rng.random():.3f}", "#"]))
    out.insert(0, "# header")
    out.append("last line")
    keep = [l for l in out if l.strip() and not l.strip().startswith("#")]
    return {"notes.txt": "\n".join(out) + "\n"}, keep


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
