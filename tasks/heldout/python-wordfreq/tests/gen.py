"""Random texts for the word-frequency task; writes /app/sample.txt as an example input."""
import os, random

VOCAB = ["the", "cat", "dog", "river", "stone", "light", "shadow", "apple", "north", "quiet", "storm", "glass",
         "ember", "tide", "maple", "frost", "echo", "lantern", "harbor", "willow"]


def text(rng):
    words = []
    for _ in range(rng.randint(30, 400)):
        w = rng.choice(VOCAB[: rng.randint(3, len(VOCAB))])
        w = rng.choice([w, w.upper(), w.capitalize()])
        words.append(w + rng.choice(["", "", "", ",", ".", "!", "'s", "-" + rng.choice(VOCAB), " 42", "\n"]))
    return " ".join(words) + "\n"


def expected(content, n=10):
    import re
    counts = {}
    for w in re.findall(r"[a-z]+", content.lower()):
        counts[w] = counts.get(w, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return "".join(f"{c} {w}\n" for w, c in top)


if __name__ == "__main__":
    rng = random.Random(int(os.environ.get("TASK_SEED", "0")))
    with open("/app/sample.txt", "w") as f:
        f.write(text(rng))
