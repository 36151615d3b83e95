"""Build /app/legacy: text files in ISO-8859-1, in UTF-8, or pure ASCII."""
import os, random

PLAIN = ["order", "shipped", "to", "the", "customer", "invoice", "street", "city", "paid", "total"]
ACCENTED = ["café", "naïve", "Müller", "señor", "Ærø", "Göteborg", "crème", "façade", "Zürich", "año", "£12"]


def plan(seed):
    """Return ({name: original bytes}, {name: expected bytes})."""
    rng = random.Random(seed)
    orig, want = {}, {}
    kinds = ["latin1", "latin1", "utf8", "ascii"] + [rng.choice(["latin1", "utf8", "ascii"]) for _ in range(rng.randint(2, 6))]
    for i, kind in enumerate(kinds):
        words = PLAIN if kind == "ascii" else PLAIN + ACCENTED
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) for _ in range(rng.randint(3, 10))]
        if kind != "ascii":
            lines[0] += " " + rng.choice(ACCENTED)
        text = "\n".join(lines) + "\n"
        name = f"record_{i:02d}.txt"
        orig[name] = text.encode("latin-1" if kind == "latin1" else "utf-8")
        want[name] = text.encode("utf-8")
    return orig, want


if __name__ == "__main__":
    orig, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    os.makedirs("/app/legacy")
    for name, data in orig.items():
        with open(f"/app/legacy/{name}", "wb") as f:
            f.write(data)
