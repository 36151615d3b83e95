"""Generates one instance of this task in /app from TASK_SEED: /app/run.py needs one setting that
/app/run.env lacks; its error names the setting and the file under /app/keys that holds its value (three
key files, one of them right).

build(rng) returns (files, want); tests/gen.py is an identical copy.
"""
import os
import random

BODY = """import sys
env = dict(line.split("=", 1) for line in open("/app/run.env").read().split())
if env.get(NAME) != VALUE:
    sys.exit(f"Error: setting {NAME} is missing from /app/run.env (its value is in /app/keys/{KEYFILE})")
print("run: ok")
"""


def build(rng):
    name = "API_" + word(rng).upper()
    keys = sorted({word(rng) for _ in range(3)})
    keyfile = rng.choice(keys)
    files = {"run.env": "LOG=info\n"}
    value = None
    for k in keys:
        v = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))
        files[f"keys/{k}.key"] = v + "\n"
        value = v if k == keyfile else value
    files["run.py"] = f"NAME = {name!r}\nVALUE = {value!r}\nKEYFILE = {keyfile + '.key'!r}\n" + BODY
    return files, {"run.env": ["line", f"{name}={value}"]}


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
