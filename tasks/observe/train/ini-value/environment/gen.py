"""Generates one instance of this task in /app from TASK_SEED: /app/app.ini with three sections, each with
a host, a port and a user; one of them is [db].

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

SECTIONS = ["server", "cache", "auth", "mail"]
HOSTS = "alpha beta gamma delta omega sigma".split()
USERS = "ann bob eve joe kim max sam tom".split()


def build(rng):
    sections = rng.sample(SECTIONS, 2) + ["db"]
    rng.shuffle(sections)
    ports = rng.sample(range(100, 1000), len(sections))
    eq = rng.choice([" = ", "="])
    blocks = []
    for name, port in zip(sections, ports):
        keys = [f"host{eq}{rng.choice(HOSTS)}", f"port{eq}{port}", f"user{eq}{rng.choice(USERS)}"]
        rng.shuffle(keys)
        blocks.append("\n".join([f"[{name}]"] + keys))
    return {"app.ini": "\n\n".join(blocks) + "\n"}, str(ports[sections.index("db")])


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
