"""Write /app/access.log: web requests whose timestamps carry different UTC offsets."""
import datetime as dt, os, random

START = dt.datetime(2024, 3, 10, 12, 0, 0, tzinfo=dt.timezone.utc)
END = dt.datetime(2024, 3, 10, 14, 0, 0, tzinfo=dt.timezone.utc)


def plan(seed):
    """Return (log text, expected lines inside [START, END) in file order)."""
    rng = random.Random(seed)
    lines, inside = [], []
    for _ in range(rng.randint(60, 120)):
        t = START + dt.timedelta(seconds=rng.randint(-6 * 3600, 8 * 3600))
        if rng.random() < 0.1:
            t = rng.choice([START, END, END - dt.timedelta(seconds=1), START - dt.timedelta(seconds=1)])
        off = rng.choice([-7, -5, 0, 0, 1, 2, 5.5, 9])
        local = t.astimezone(dt.timezone(dt.timedelta(hours=off)))
        stamp = local.strftime("%d/%b/%Y:%H:%M:%S %z")
        path = rng.choice(["/", "/login", "/api/items", "/api/cart", "/static/app.js", "/health"])
        line = f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)} - - [{stamp}] \"GET {path} HTTP/1.1\" {rng.choice([200, 200, 304, 404, 500])} {rng.randint(100, 9000)}"
        lines.append(line)
        if START <= t < END:
            inside.append(line)
    return "\n".join(lines) + "\n", inside


if __name__ == "__main__":
    text, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    with open("/app/access.log", "w") as f:
        f.write(text)
