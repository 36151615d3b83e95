"""Write /app/logs/jobs.log: interleaved start/end events of batch jobs, some spanning midnight or month ends."""
import datetime as dt, os, random


def plan(seed):
    """Return (log text, {job: duration seconds})."""
    rng = random.Random(seed)
    base = dt.datetime(2024, rng.choice([2, 3, 12]), 1, tzinfo=dt.timezone.utc) - dt.timedelta(days=1)
    events, durations = [], {}
    for i in rng.sample(range(1, 99), rng.randint(8, 16)):
        job = f"{rng.choice(['backup', 'etl', 'report', 'sync'])}-{i:02d}"
        start = base + dt.timedelta(seconds=rng.randint(0, 2 * 86400))
        secs = rng.choice([rng.randint(5, 600), rng.randint(600, 20000), rng.randint(20000, 200000)])
        durations[job] = secs
        events.append((start, job, "start"))
        events.append((start + dt.timedelta(seconds=secs), job, "end"))
    events.sort()
    lines = [f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')} job={j} event={e} host=node{rng.randint(1, 4)}" for t, j, e in events]
    return "\n".join(lines) + "\n", durations


if __name__ == "__main__":
    text, _ = plan(int(os.environ.get("TASK_SEED", "0")))
    os.makedirs("/app/logs", exist_ok=True)
    with open("/app/logs/jobs.log", "w") as f:
        f.write(text)
