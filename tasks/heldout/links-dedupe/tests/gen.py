"""Build /app/cache: package files in several mirror folders, many byte-identical copies of each other."""
import os, random


def plan(seed):
    """Return {relative path: bytes}."""
    rng = random.Random(seed)
    blobs = [bytes(rng.randrange(256) for _ in range(rng.randint(200, 3000))) for _ in range(rng.randint(5, 9))]
    blobs.append(blobs[0][:-1] + bytes([(blobs[0][-1] + 1) % 256]))  # near-duplicate: differs in the last byte
    files = {}
    for i, blob in enumerate(blobs):
        for _ in range(rng.choice([1, 2, 3, 4])):
            folder = rng.choice(["main", "main/old", "mirror-a", "mirror-b", "mirror-b/stale"])
            files[f"{folder}/pkg{i}-{rng.randint(1, 9)}.{rng.randint(0, 20)}.tar.gz"] = blob
    return files


def build(root, seed):
    for path, blob in plan(seed).items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    build("/app/cache", int(os.environ.get("TASK_SEED", "0")))
