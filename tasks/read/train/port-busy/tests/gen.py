"""Generates one instance of this task in /app from TASK_SEED: /app/server.py, which refuses the port in
/app/server.env (in use) and names the next free one; the fix is a value read from its error.

build(rng) returns (files, want); tests/gen.py is an identical copy.
"""
import os
import random

BODY = """import sys
env = dict(line.split("=", 1) for line in open("/app/server.env").read().split())
port = int(env.get("PORT", "0"))
if port == BUSY:
    sys.exit(f"Error: port {BUSY} is already in use (pid {PID}). Next free port: {FREE}")
if port != FREE:
    sys.exit(f"Error: port {port} is reserved. Next free port: {FREE}")
print(f"server listening on 127.0.0.1:{FREE}")
"""


def build(rng):
    busy = rng.randint(8000, 8999)
    free = busy + rng.randint(1, 40)
    files = {"server.py": f"BUSY = {busy}\nFREE = {free}\nPID = {rng.randint(300, 9000)}\n" + BODY,
             "server.env": f"HOST=127.0.0.1\nPORT={busy}\n"}
    return files, {"server.env": ["line", f"PORT={free}"]}


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
