"""Generates one instance of this task in /app from TASK_SEED: 4-6 short text files in /app/docs, one of
which contains the word "urgent".

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

NAMES = "alpha bravo delta hotel kilo lima oscar romeo sierra tango victor yankee zulu golf".split()
WORDS = "the a red blue big old cat dog tree road car ship sun moon rain box cup pen map".split()


def build(rng):
    names = rng.sample(NAMES, rng.randint(4, 6))
    files = {f"docs/{n}.txt": [" ".join(rng.choices(WORDS, k=rng.randint(3, 5)))
                               for _ in range(rng.randint(1, 3))] for n in names}
    answer = rng.choice(names) + ".txt"
    lines = files[f"docs/{answer}"]
    i = rng.randrange(len(lines))
    words = lines[i].split()
    words.insert(rng.randint(0, len(words)), "urgent")
    lines[i] = " ".join(words)
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}, answer


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
