"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import json

STATUSES = ["ok", "ok", "ok", "failed", "retry", "skipped", "timeout"]


def build(rng):
    events, counts = [], {}
    for i in range(rng.randint(20, 80)):
        s = rng.choice(STATUSES)
        counts[s] = counts.get(s, 0) + 1
        events.append(json.dumps({"id": i, "status": s, "ms": rng.randint(1, 900)}))
    return {"events.jsonl": "\n".join(events) + "\n"}, counts


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
