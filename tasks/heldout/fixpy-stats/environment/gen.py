"""Hidden data sets for stats.py and the reference answers; writes /app/data.txt as an example."""
import os, random


def datasets(seed):
    rng = random.Random(seed)
    out = [[5], [3, 1], [2, 2, 1, 1], [7, 3, 9, 3, 7]]
    for _ in range(12):
        n = rng.randint(2, 15)
        out.append([rng.randint(-20, 20) for _ in range(n)])
    return out


def reference(xs):
    s, n = sorted(xs), len(xs)
    mean = sum(xs) / n
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    counts = {x: xs.count(x) for x in xs}
    top = max(counts.values())
    mode = min(x for x in counts if counts[x] == top)
    variance = 0.0 if n == 1 else sum((x - mean) ** 2 for x in xs) / (n - 1)
    return {"mean": mean, "median": median, "mode": mode, "variance": variance, "value_range": s[-1] - s[0]}


if __name__ == "__main__":
    with open("/app/data.txt", "w") as f:
        f.write(" ".join(map(str, datasets(int(os.environ.get("TASK_SEED", "0")))[-1])) + "\n")
