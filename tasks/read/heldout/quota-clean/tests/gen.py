"""Generates one instance of this task in /app from TASK_SEED: /app/out holds three or four reports named
at random, each dated on its first line; /app/report.py names the oldest one to delete. Deleting by
name order or by mtime (all files share one) picks the wrong one most of the time.

build(rng) returns (files, want); tests/gen.py is an identical copy.
"""
import os
import random

BODY = """import os, sys
held = sorted(n for n in os.listdir("/app/out") if n.endswith(".txt"))
if OLDEST in held:
    sys.exit(f"Error: /app/out holds {len(held)} reports, quota {len(held) - 1}: delete the oldest, /app/out/{OLDEST}")
print("report written")
"""


def build(rng):
    names = sorted({f"{word(rng)}.txt" for _ in range(rng.choice([3, 4]))})
    days = rng.sample(range(1, 29), len(names))
    files = {f"out/{n}": f"date: 2024-03-{d:02d}\nrows: {rng.randint(10, 99)}\n" for n, d in zip(names, days)}
    oldest = names[days.index(min(days))]
    files["report.py"] = f"OLDEST = {oldest!r}\n" + BODY
    want = {f"out/{oldest}": ["absent"]}
    want.update({f"out/{n}": ["exists"] for n in names if n != oldest})
    return files, want


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
