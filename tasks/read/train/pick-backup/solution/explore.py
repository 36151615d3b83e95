"""Explorer for pick-backup: lists the backups, runs verify.py on each until one passes, and writes that
one's name."""
import re


def need(match, what: str, out: str):
    """The regex match parsed from an output; a clear error when the output lacks it."""
    if not match:
        raise ValueError(f"no {what} in the output {out[:200]!r}")
    return match


def explore(rng):
    out = yield rng.choice(["ls /app/backups", "ls -1 /app/backups"])
    names = need(re.findall(r"[\w-]+\.bak", out), "backup names", out)
    for name in names:
        out = yield rng.choice([f"python3 /app/verify.py /app/backups/{name}",
                                f"cd /app && python3 verify.py backups/{name}"])
        if "checksum OK" in out:
            yield f"echo {name} > /app/answer.txt"
            return
    raise ValueError(f"no backup passed: {names}")
