"""Write /app/events.csv: `epoch,event` rows with Unix timestamps."""
import datetime as dt, os, random

EVENTS = ["login", "logout", "deploy", "backup", "alert", "restart", "purchase"]


def plan(seed):
    """Return (input csv text, expected output csv text)."""
    rng = random.Random(seed)
    rows = [(rng.choice([rng.randint(0, 2**31 - 1), rng.randint(1700000000, 1800000000), 951782400 + rng.randint(0, 86400)]),
             rng.choice(EVENTS)) for _ in range(rng.randint(10, 30))]
    src = "epoch,event\n" + "".join(f"{e},{n}\n" for e, n in rows)
    out = "time,event\n" + "".join(
        f"{dt.datetime.fromtimestamp(e, dt.timezone.utc).strftime('%Y-%m-%d %H:%M:%S')},{n}\n" for e, n in rows)
    return src, out


if __name__ == "__main__":
    src, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    with open("/app/events.csv", "w") as f:
        f.write(src)
