"""Hidden test values for the roman numeral task."""
import os, random


def cases(seed):
    """Return (numbers to convert, invalid numeral strings)."""
    rng = random.Random(seed)
    numbers = rng.sample(range(1, 4000), 40) + [1, 4, 9, 14, 40, 90, 400, 900, 1994, 3999]
    invalid = ["", "IIII", "VV", "IC", "XM", "IL", "MMMM", "VX", "ABC", "XIIII", "CCCC", "DD", "LL", "iv", "IIV"]
    return numbers, rng.sample(invalid, 8)

