"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

LEVELS = ["DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"]
COMPONENTS = ["db", "http", "auth", "cache", "worker", "scheduler"]
MESSAGES = ["request handled", "connection reset, error recovered", "cache miss", "user logged in",
            "retrying after error", "job finished", "timeout talking to upstream", "disk usage high",
            "ERROR budget at 80%", "failed to parse payload", "slow query"]


def build(rng):
    out, n = [], 0
    for _ in range(rng.randint(150, 400)):
        level = rng.choice(LEVELS)
        n += level == "ERROR"
        out.append(f"2024-03-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                   f"{rng.randint(0, 59):02d} [{level}] {rng.choice(COMPONENTS)}: {rng.choice(MESSAGES)}")
    return {"app.log": "\n".join(out) + "\n"}, n


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
