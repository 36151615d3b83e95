"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

USERS = "root daemon bin sys sync games man lp mail news alice bob carol dave erin frank gina hank".split()
SHELLS = ["/bin/bash", "/bin/bash", "/usr/sbin/nologin", "/bin/sh", "/usr/bin/bash", "/bin/false", "/bin/zsh"]


def build(rng):
    out, exp = [], []
    for uid, user in enumerate(rng.sample(USERS, rng.randint(8, len(USERS)))):
        shell = rng.choice(SHELLS)
        home = rng.choice([f"/home/{user}", "/bin/bash", "/var/empty"])  # a home of /bin/bash is a decoy
        out.append(f"{user}:x:{1000 + uid}:{1000 + uid}:{user.title()}:{home}:{shell}")
        if shell == "/bin/bash":
            exp.append(user)
    if not exp:
        out.append("zed:x:2000:2000:Zed:/home/zed:/bin/bash")
        exp.append("zed")
    return {"passwd": "\n".join(out) + "\n"}, exp


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
