"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

def build(rng):
    out, exp = ["host\tcpu\tmem\tdisk"], []
    for i in rng.sample(range(1, 99), rng.randint(10, 30)):
        cpu, mem, disk = rng.choice([rng.randint(0, 100), 80, rng.randint(81, 100)]), rng.randint(0, 64000), rng.randint(0, 100)
        out.append(f"web{i:02d}\t{cpu}\t{mem}\t{disk}")
        if cpu > 80:
            exp.append(f"web{i:02d}\t{mem}")
    out.append("db01\t95\t512\t7")
    exp.append("db01\t512")
    return {"metrics.tsv": "\n".join(out) + "\n"}, exp


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
