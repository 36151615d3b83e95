"""Generates one instance of this task in /app from TASK_SEED: 4-6 reports in /app/reports, each with a
"date: YYYY-MM-DD" line; their file times are all alike, so only the dates inside tell which is newest.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

NAMES = "north south east west coast hills lakes plains ridge delta".split()
WORDS = "sales up down flat stock low high new plan".split()


def build(rng):
    names = rng.sample(NAMES, rng.randint(4, 6))
    days = rng.sample(range(1, 365), len(names))           # distinct days of 2024
    files = {}
    for n, day in zip(names, days):
        month, mday = day // 29 + 1, day % 29 + 1         # months of 29 days: always a valid date
        files[f"reports/{n}.txt"] = (f"date: 2024-{month:02d}-{mday:02d}\n"
                                     f"{' '.join(rng.sample(WORDS, 3))}\n")
    return files, names[days.index(max(days))] + ".txt"


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
