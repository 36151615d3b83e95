"""Write /app/inbox/messages.txt: `ID: BASE64` lines whose payloads are UTF-8 text or binary data."""
import base64, os, random

WORDS = ["hello", "meeting", "at", "noon", "bring", "the", "keys", "grüße", "déjà vu", "naïve", "✓ done", "ok"]


def plan(seed):
    """Return (messages.txt text, {id: payload bytes})."""
    rng = random.Random(seed)
    payloads = {}
    for _ in range(rng.randint(5, 10)):
        mid = f"msg-{rng.randint(100, 999)}"
        if rng.random() < 0.25:
            payloads[mid] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 60)))
        else:
            lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(1, 4))]
            payloads[mid] = ("\n".join(lines) + rng.choice(["", "\n"])).encode()
    text = "".join(f"{mid}: {base64.b64encode(p).decode()}\n" for mid, p in payloads.items())
    return text, payloads


if __name__ == "__main__":
    text, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    os.makedirs("/app/inbox")
    with open("/app/inbox/messages.txt", "w") as f:
        f.write(text)
