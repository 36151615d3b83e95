"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    hexs = lambda n: "".join(rng.choice("0123456789abcdef") for _ in range(n))
    token = hexs(32)
    files = {}
    decoys = [f"API_TOKEN_OLD={hexs(32)}", f"# API_TOKEN= goes in the vault", f"OTHER_TOKEN={hexs(32)}",
              f"export API_KEY={hexs(16)}", "USER=deploy", "PORT=8080"]
    paths = [f"haystack/{a}/{b}/file{i}.env" for i, (a, b) in
             enumerate((rng.choice("abcde"), rng.choice("xyz")) for _ in range(rng.randint(20, 40)))]
    for p in paths:
        files[p] = "\n".join(rng.sample(decoys, 3)) + "\n"
    winner = rng.choice(paths)
    files[winner] += f"API_TOKEN={token}\nDEBUG=false\n"
    return files, token


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
