"""Generates one instance of this task in /app from TASK_SEED.

tests/gen.py is an identical copy: the verifier calls build() with the same seed to get the expected answer.
"""
import os
import random

import io
import tarfile
import zipfile


def tar_gz(members):
    """members: {path: bytes | None (a directory)} -> the bytes of a .tar.gz archive."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build(rng):
    members, n = {}, 0
    for i in range(rng.randint(10, 30)):
        d = rng.choice(["2021", "2022", "2023", "misc", "2022/q1"])
        members[d + "/"] = None
        ext = rng.choice(["csv", "csv", "txt", "json", "csv.bak"])
        members[f"{d}/table{i}.{ext}"] = b"a,b\n1,2\n"
        n += ext == "csv"
    members["backup.csv/"] = None  # a directory named like a csv file does not count
    return {"dataset.tar.gz": tar_gz(members)}, n


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
