"""Generates one instance of this task in /app from TASK_SEED: /app/words.txt, one word per line, with the
word "zebra" on exactly one line.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

WORDS = ("apple river stone cloud maple tiger ocean piano lemon candle forest silver rocket garden "
         "pepper violet orange window falcon marble banana copper meadow pillow").split()


def build(rng):
    words = rng.sample(WORDS, rng.randint(10, 20))
    i = rng.randint(0, len(words))
    words.insert(i, "zebra")
    return {"words.txt": "\n".join(words) + "\n"}, str(i + 1)


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
