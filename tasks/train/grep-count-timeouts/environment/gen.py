"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

MSGS = ["request ok", "connection Timeout after 30s", "TIMEOUT waiting for lock", "read timeout on socket",
        "timed out (not the word we want)", "retry scheduled", "time out is two words", "cache hit"]


def build(rng):
    files, n = {}, 0
    for i in range(rng.randint(3, 6)):
        for ext in ["log", rng.choice(["txt", "log.old", "bak"])]:
            body = [rng.choice(MSGS) for _ in range(rng.randint(20, 60))]
            files[f"logs/service{i}.{ext}"] = "\n".join(body) + "\n"
            if ext == "log":
                n += sum("timeout" in line.lower() for line in body)
    return files, n


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
