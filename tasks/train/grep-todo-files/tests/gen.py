"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

DIRS = ["", "lib", "app", "app/views", "tests", "scripts"]
LINES = ["x = compute(y)", "return result", "# todo: lowercase does not count", "def helper():",
         "print('done')", "import os", "// Todo is not it either", "value += 1"]


def build(rng):
    files, hits = {}, []
    for i in range(rng.randint(10, 18)):
        rel = os.path.join(rng.choice(DIRS), f"mod{i}.{rng.choice(['py', 'js', 'sh'])}")
        body = [rng.choice(LINES) for _ in range(rng.randint(3, 12))]
        if rng.random() < 0.4:
            body.insert(rng.randrange(len(body)), f"# TODO: {rng.choice(['refactor', 'add tests', 'fix bug'])}")
            hits.append(rel)
        files["src/" + rel] = "\n".join(body) + "\n"
    if not hits:
        files["src/main.py"], hits = "# TODO: write main\n", ["main.py"]
    return files, sorted(hits)


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
