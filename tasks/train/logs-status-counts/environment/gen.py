"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

PATHS = ["/", "/index.html", "/login", "/api/users", "/api/orders", "/static/app.js", "/img/logo.png", "/search"]
METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"]
STATUS = [200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 404, 500, 502, 503]


def access_line(rng, ip, status=None, ms=None):
    t = f"{rng.randint(1, 28):02d}/Mar/2024:{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    path = rng.choice(PATHS)
    line = f'{ip} - - [{t} +0000] "{rng.choice(METHODS)} {path} HTTP/1.1" {status or rng.choice(STATUS)} {rng.randint(100, 9999)}'
    return line if ms is None else f"{line} {ms}", path


def random_ip(rng):
    return f"{rng.choice([10, 172, 192])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def build(rng):
    ips = [random_ip(rng) for _ in range(10)]
    counts, out = {}, []
    for _ in range(rng.randint(80, 250)):
        status = rng.choice(STATUS)
        counts[status] = counts.get(status, 0) + 1
        out.append(access_line(rng, rng.choice(ips), status)[0])
    return {"access.log": "\n".join(out) + "\n"}, [f"{s} {counts[s]}" for s in sorted(counts)]


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
