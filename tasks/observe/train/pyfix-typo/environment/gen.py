"""Generates one instance of this task in /app from TASK_SEED: /app/calc.py, four lines of arithmetic in
which one use of a variable is misspelled (a letter dropped), so it stops with a NameError.

The answer is what the fixed script prints.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

# No letter dropped from these names gives a Python keyword or builtin, or a name one edit away from one
# (checked once, by hand): Python's "Did you mean" then always names the right variable.
NAMES = "price count total depth height length weight amount number result bonus rate".split()


def edits(x, y):
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn x into y."""
    row = list(range(len(y) + 1))
    for i, cx in enumerate(x, 1):
        prev, row[0] = row[0], i
        for j, cy in enumerate(y, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (cx != cy))
    return row[-1]


def build(rng):
    a, b, c = rng.sample(NAMES, 3)
    va, vb = rng.randint(2, 40), rng.randint(2, 40)
    op = rng.choice(["+", "*", "-"])
    value = {"+": va + vb, "*": va * vb, "-": va - vb}[op]
    names = {"a": a, "b": b, "c": c}
    while True:                                           # misspell one use: drop an inner letter
        where = rng.choice("abc")
        cut = rng.randint(1, len(names[where]) - 2)       # 'total' -> 'totl'
        typo = names[where][:cut] + names[where][cut + 1:]
        if all(edits(typo, n) >= 2 for n in names.values() if n != names[where]):   # 'aount': amount? count?
            break
    use = {**names, where: typo}
    lines = [f"{a} = {va}", f"{b} = {vb}", f"{c} = {use['a']} {op} {use['b']}",
             f'print("{c}", {use["c"]})']
    return {"calc.py": "\n".join(lines) + "\n"}, f"{c} {value}"


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
