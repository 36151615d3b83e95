"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import json

KEYS = "theme font_size autosave language tab_width wrap telemetry backup_count editor zoom".split()
VALUES = ["dark", "light", 12, 14, True, False, "en", "pt", 2, 4, "vim", 1.5]


def build(rng):
    d = {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(4, 8))}
    o = {k: rng.choice(VALUES) for k in rng.sample(KEYS, rng.randint(2, 5))}
    o[rng.choice(list(d))] = "overridden"
    return ({"defaults.json": json.dumps(d, indent=2) + "\n", "overrides.json": json.dumps(o, indent=2) + "\n"},
            {**d, **o})


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
