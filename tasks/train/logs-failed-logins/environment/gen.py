"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

USERS = "root admin alice bob carol dave erin frank grace heidi ivan judy mallory oscar peggy trent".split()


def build(rng):
    out, failed = [], set()
    for _ in range(rng.randint(60, 150)):
        user, ip = rng.choice(USERS), f"203.0.113.{rng.randint(1, 254)}"
        head = f"Mar {rng.randint(1, 28):2d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} srv sshd[{rng.randint(1000, 9999)}]:"
        kind = rng.random()
        if kind < 0.35:
            out.append(f"{head} Accepted password for {user} from {ip} port {rng.randint(1024, 65535)} ssh2")
        elif kind < 0.65:
            out.append(f"{head} Failed password for {user} from {ip} port {rng.randint(1024, 65535)} ssh2")
            failed.add(user)
        elif kind < 0.8:
            out.append(f"{head} Failed password for invalid user {user} from {ip} port {rng.randint(1024, 65535)} ssh2")
            failed.add(user)
        else:
            out.append(f"{head} Connection closed by {ip} port {rng.randint(1024, 65535)} [preauth]")
    return {"auth.log": "\n".join(out) + "\n"}, sorted(failed)


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
