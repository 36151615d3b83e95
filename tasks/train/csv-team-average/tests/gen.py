"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

TEAMS = "red blue green gold black white".split()


def build(rng):
    rows, per = ["player,team,score"], {}
    for i in range(rng.randint(12, 40)):
        t, s = rng.choice(TEAMS), rng.randint(0, 100)
        per.setdefault(t, []).append(s)
        rows.append(f"p{i},{t},{s}")
    return {"scores.csv": "\n".join(rows) + "\n"}, {t: sum(v) / len(v) for t, v in sorted(per.items())}


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
