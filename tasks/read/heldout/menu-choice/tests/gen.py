"""Generates one instance of this task in /app from TASK_SEED: /app/deploy.py prints three numbered
targets in a shuffled order; /app/NOTES names the target. The answer joins the two reads.

build(rng) returns (files, answer); tests/gen.py is an identical copy.
"""
import os
import random

BODY = """for i, t in enumerate(TARGETS, 1):
    print(f"{i}) {t}")
print("Which target? (see /app/NOTES)")
"""


def build(rng):
    targets = sorted({word(rng) for _ in range(3)})
    rng.shuffle(targets)
    pick = rng.choice(targets)
    files = {"deploy.py": f"TARGETS = {targets!r}\n" + BODY, "NOTES": f"This release goes to {pick}.\n"}
    return files, {"answer.txt": str(targets.index(pick) + 1)}


SYLLABLES = "ka lo mi ne ru ta vo zi be du".split()


def word(rng):
    """A made-up name of three syllables (1,000 of them): no list an agent could guess from."""
    return "".join(rng.choice(SYLLABLES) for _ in range(3))


MTIME = 1_700_000_000  # 2023-11-14 22:13 UTC


def write(files, root="/app"):
    """files maps a path relative to root to str or (str, mode); a path ending in '/' is a directory."""
    for rel, content in files.items():
        content, mode = content if isinstance(content, tuple) else (content, None)
        path = os.path.join(root, rel)
        if rel.endswith("/"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)
        if mode is not None:
            os.chmod(path, mode)
    # one fixed time on everything (as files unpacked from an archive): `ls -l` prints the same on every run
    for d, dirs, names in os.walk(root):
        for name in dirs + names:
            os.utime(os.path.join(d, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(root, (MTIME, MTIME))


if __name__ == "__main__":
    files, _ = build(random.Random(int(os.environ.get("TASK_SEED", "0"))))
    write(files)
