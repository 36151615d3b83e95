"""Build /app/docs: .txt files with LF or CRLF line endings, plus binary files that contain CR LF bytes."""
import os, random

WORDS = ["alpha", "beta", "gamma", "delta", "report", "meeting", "budget", "notes", "agenda", "summary"]


def plan(seed):
    """Return ({relative path: original bytes}, {relative path: expected bytes}, sorted converted paths)."""
    rng = random.Random(seed)
    orig, want, converted = {}, {}, []
    for i in range(rng.randint(8, 14)):
        folder = rng.choice(["", "team", "team/minutes", "archive"])
        path = os.path.join(folder, f"{rng.choice(WORDS)}-{i}.txt")
        lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(2, 12))]
        lf = ("\n".join(lines) + "\n").encode()
        if rng.random() < 0.5:
            orig[path], want[path] = lf.replace(b"\n", b"\r\n"), lf
            converted.append(path)
        else:
            orig[path] = want[path] = lf
    for i in range(rng.randint(2, 4)):  # not .txt: must be left alone even though they contain CR LF
        path = rng.choice(["", "team", "archive"]) + f"/blob{i}." + rng.choice(["bin", "png", "csv"])
        path = path.lstrip("/")
        data = bytes(rng.randrange(256) for _ in range(200)) + b"\r\nEND\r\n"
        orig[path] = want[path] = data
    if not converted:
        p = sorted(p for p in orig if p.endswith(".txt"))[0]
        orig[p] = want[p].replace(b"\n", b"\r\n")
        converted.append(p)
    return orig, want, sorted(converted, key=lambda s: s.encode())


def build(root, seed):
    orig, _, _ = plan(seed)
    for path, data in orig.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    build("/app/docs", int(os.environ.get("TASK_SEED", "0")))
