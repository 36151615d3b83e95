"""Generates one instance of this task in /app from TASK_SEED: /app/env.sh, which sources a file in a
hidden directory (/app/.<name>/<name>.sh) that sets API_KEY.

build(rng) returns (files, answer), answer being what the verifier expects. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

DIRS = ["cfg", "secrets", "conf", "private", "local"]
FILES = ["keys", "vars", "auth", "tokens"]
WORDS = "maple cedar birch aspen alder rowan hazel larch".split()
MODES = ["dev", "test", "prod"]


def build(rng):
    hidden = f".{rng.choice(DIRS)}/{rng.choice(FILES)}.sh"
    key = f"{rng.choice(WORDS)}{rng.randint(100, 999)}"
    user = rng.choice(WORDS)
    env = f"# app settings\nexport APP_MODE={rng.choice(MODES)}\n. /app/{hidden}\n"
    lines = [f"export API_USER={user}", f"export API_KEY={key}"]
    rng.shuffle(lines)
    return {"env.sh": env, hidden: "\n".join(lines) + "\n"}, key


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
