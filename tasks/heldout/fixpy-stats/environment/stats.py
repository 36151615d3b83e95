"""Small statistics helpers. Every function takes a non-empty list of ints or floats and must not modify it."""


def mean(xs):
    """Arithmetic mean."""
    return sum(xs) / len(xs)


def median(xs):
    """Middle value of the sorted data; for an even count, the mean of the two middle values."""
    xs.sort()
    n = len(xs)
    if n % 2 == 1:
        return xs[n // 2]
    return (xs[n // 2] + xs[n // 2 + 1]) / 2


def mode(xs):
    """Most common value; if several values are equally common, the smallest of them."""
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    return max(counts, key=counts.get)


def variance(xs):
    """Sample variance (divides by n - 1); 0.0 for a single value."""
    m = mean(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def value_range(xs):
    """Largest value minus smallest value."""
    return xs[-1] - xs[0]
