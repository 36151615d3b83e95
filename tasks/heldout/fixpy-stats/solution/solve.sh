#!/bin/bash
cat > /app/stats.py <<'PY'
"""Small statistics helpers. Every function takes a non-empty list of ints or floats and must not modify it."""


def mean(xs):
    """Arithmetic mean."""
    return sum(xs) / len(xs)


def median(xs):
    """Middle value of the sorted data; for an even count, the mean of the two middle values."""
    s = sorted(xs)
    n = len(s)
    if n % 2 == 1:
        return s[n // 2]
    return (s[n // 2 - 1] + s[n // 2]) / 2


def mode(xs):
    """Most common value; if several values are equally common, the smallest of them."""
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    top = max(counts.values())
    return min(x for x, c in counts.items() if c == top)


def variance(xs):
    """Sample variance (divides by n - 1); 0.0 for a single value."""
    if len(xs) == 1:
        return 0.0
    m = mean(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


def value_range(xs):
    """Largest value minus smallest value."""
    return max(xs) - min(xs)
PY
