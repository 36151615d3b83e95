"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "amy ben cai dan eli fay gus hal ida joe kai liv".split()
SUBJECTS = "math physics art history biology music".split()


def build(rng):
    out, best = [], {}
    for _ in range(rng.randint(20, 60)):
        n, s = rng.choice(NAMES), rng.randint(0, 100)
        best[n] = max(best.get(n, -1), s)
        out.append(f"{n} {rng.choice(SUBJECTS)} {s}")
    return {"scores.txt": "\n".join(out) + "\n"}, [f"{n} {best[n]}" for n in sorted(best)]


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
