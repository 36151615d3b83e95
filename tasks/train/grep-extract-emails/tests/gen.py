"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

NAMES = "ann bob carl dora eve finn gus hana ivo jan kim lea max nia otto pia".split()
DOMAINS = ["example.com", "mail.org", "corp.net", "uni.edu"]
FILLER = ["please contact", "for billing ask", "cc:", "the owner is", "escalate to", "meeting with"]


def build(rng):
    files, emails = {}, set()
    for i in range(rng.randint(3, 6)):
        out = []
        for _ in range(rng.randint(5, 15)):
            e = f"{rng.choice(NAMES)}{rng.choice(['', '.', '_'])}{rng.choice(NAMES)}@{rng.choice(DOMAINS)}"
            emails.add(e)
            out.append(f"{rng.choice(FILLER)} {rng.choice([e, '<' + e + '>'])} about item {rng.randint(1, 99)}")
        files[f"contacts/list{i}.txt"] = "\n".join(out) + "\n"
    return files, sorted(emails)


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
