"""Generates one instance of this task in /app from TASK_SEED: /app/report.py, which sums the numbers of an
input file at a path that does not exist yet, and that input as /app/input.txt.

The answer is what the script prints once the input is where it looks.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

DIRS = ["data", "in", "inputs", "files", "shared"]
NAMES = ["numbers", "values", "input", "counts", "nums"]


def build(rng):
    path = f"/app/{rng.choice(DIRS)}/{rng.choice(NAMES)}{rng.randint(1, 9)}.txt"
    nums = [rng.randint(1, 99) for _ in range(rng.randint(3, 6))]
    script = (f'with open("{path}") as f:\n'
              f"    nums = [int(x) for x in f.read().split()]\n"
              f'print("sum", sum(nums))\n')
    return {"report.py": script, "input.txt": "\n".join(map(str, nums)) + "\n"}, f"sum {sum(nums)}"


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
