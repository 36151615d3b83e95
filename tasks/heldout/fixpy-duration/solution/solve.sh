#!/bin/bash
cat > /app/durations.py <<'PY'
"""Parse and format durations like "2d4h", "1h30m", "90s" or "1h 5m 3s".

Units: d = 86400 s, h = 3600 s, m = 60 s, s = 1 s.

parse_duration(text) -> int seconds
    text is one or more <integer><unit> parts, optionally separated by spaces, units in any order
    (e.g. "45s", "1h30m", "10m 2h", "100m"). Raises ValueError for anything else ("", "5", "3x", "h").
format_duration(seconds) -> str
    the canonical form: non-zero parts from largest to smallest unit with no spaces, e.g. 5400 -> "1h30m",
    86461 -> "1d1m1s"; 0 -> "0s". Raises ValueError for negative input.

Command line: python3 durations.py TEXT...   prints the total of all arguments in canonical form.
"""
import re
import sys

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
WHOLE = re.compile(r"\s*(\d+[dhms]\s*)+")
PART = re.compile(r"(\d+)([dhms])")


def parse_duration(text):
    if not WHOLE.fullmatch(text):
        raise ValueError(f"bad duration: {text!r}")
    return sum(int(n) * UNITS[u] for n, u in PART.findall(text))


def format_duration(seconds):
    if seconds < 0:
        raise ValueError(f"negative duration: {seconds}")
    out = ""
    for unit, size in UNITS.items():
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


if __name__ == "__main__":
    print(format_duration(sum(parse_duration(a) for a in sys.argv[1:])))
PY
