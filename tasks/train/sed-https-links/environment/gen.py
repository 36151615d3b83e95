"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

HOSTS = ["example.com", "cdn.example.net", "docs.example.org", "shop.example.com"]


def build(rng):
    files, exp = {}, {}
    for i in range(rng.randint(3, 6)):
        for ext in ["html", rng.choice(["txt", "md", "html.orig"])]:
            body = []
            for _ in range(rng.randint(4, 10)):
                scheme = rng.choice(["http://", "https://", "http://", "ftp://"])
                body.append(f'<a href="{scheme}{rng.choice(HOSTS)}/p{rng.randint(1, 99)}">link</a>')
            body.append('<a href="http://example.com/">home</a>')
            text = "\n".join(body) + "\n"
            files[f"site/page{i}.{ext}"] = text
            exp[f"site/page{i}.{ext}"] = text.replace("http://", "https://") if ext == "html" else text
    return files, exp


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
