"""Hidden cases for durations.py: valid texts with their seconds, invalid texts, seconds to format."""
import os, random

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def fmt(seconds):
    out = ""
    for unit, size in UNITS.items():
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def cases(seed):
    rng = random.Random(seed)
    valid = {"45s": 45, "1h30m": 5400, "10m 2h": 7800, "100m": 6000, "2d": 172800, "1h 5m 3s": 3903}
    for _ in range(15):
        units = rng.sample("dhms", rng.randint(1, 4))
        nums = [rng.randint(1, 150) for _ in units]
        text = rng.choice(["", " "]).join(f"{n}{u}" for n, u in zip(nums, units))
        valid[text] = sum(n * UNITS[u] for n, u in zip(nums, units))
    invalid = ["", "5", "3x", "h", "1h30", "abc", "1h-30m", "1.5h"]
    seconds = [0, 1, 59, 60, 3600, 86400, 86461, 5400] + [rng.randint(0, 10**6) for _ in range(10)]
    return valid, invalid, {s: fmt(s) for s in seconds}

