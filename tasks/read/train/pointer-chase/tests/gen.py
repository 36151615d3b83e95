"""Generates one instance of this task in /app from TASK_SEED: /app/start.txt names a line of
/app/index.txt; that line names one of several note files; that file holds the code among decoys. Three
reads, each needing the one before.

build(rng) returns (files, answer); tests/gen.py is an identical copy.
"""
import os
import random


def code(rng):
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def build(rng):
    notes = sorted({word(rng) for _ in range(5)})
    rng.shuffle(notes)
    k = rng.randint(1, len(notes))
    files = {"start.txt": f"The code is in the note named on line {k} of /app/index.txt.\n",
             "index.txt": "".join(f"/app/notes/{n}.txt\n" for n in notes)}
    answer = None
    for i, n in enumerate(notes, 1):
        c = code(rng)
        files[f"notes/{n}.txt"] = f"owner: {word(rng)}\ncode: {c}\n"
        answer = c if i == k else answer
    return files, {"answer.txt": answer}


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
