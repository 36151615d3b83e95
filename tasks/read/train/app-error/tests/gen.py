"""Generates one instance of this task in /app from TASK_SEED: /app/app.py, which stops with one of three
errors (a data file missing, a wrong mode in /app/app.cfg, a stale lock under /app/run), each naming what
to fix. The fix depends on which error it printed and on the name or value in it.

build(rng) returns (files, want): want is what tests/check.py expects of /app. tests/gen.py is an
identical copy: the verifier calls build() with the same seed.
"""
import os
import random

BODY = """import os, sys
if not os.path.isfile(DATA):
    sys.exit(f"Error: required file {DATA} not found")
cfg = dict(line.split("=", 1) for line in open("/app/app.cfg").read().split())
if cfg.get("mode") != MODE:
    sys.exit(f"Error: /app/app.cfg: mode is '{cfg.get('mode')}', expected '{MODE}'")
for name in sorted(os.listdir("/app/run")):
    if name.endswith(".lock"):
        sys.exit(f"Error: stale lock /app/run/{name} (no such process); remove it")
print("OK: app started")
"""
MODES = ["fast", "safe", "debug", "batch", "quiet"]


def build(rng):
    kind = rng.choice(["missing", "mode", "lock"])
    data, lock = f"/app/data/{word(rng)}.txt", word(rng)
    mode, other = rng.sample(MODES, 2)
    files = {"app.py": f"DATA = {data!r}\nMODE = {mode!r}\n" + BODY,
             "app.cfg": f"mode={other if kind == 'mode' else mode}\n", "run/": "", "data/": ""}
    if kind != "missing":
        files[data.removeprefix("/app/")] = "ready\n"
    if kind == "lock":
        files[f"run/{lock}.lock"] = "pid 4242\n"
    return files, {data.removeprefix("/app/"): ["exists"], "app.cfg": ["line", f"mode={mode}"], "run": ["none", ".lock"]}


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
