"""Hidden test values for the roman numeral task."""
import os, random


def cases(seed):
    """Return (numbers to convert, invalid numeral strings)."""
    rng = random.Random(seed)
    numbers = rng.sample(range(1, 4000), 40) + [1, 4, 9, 14, 40, 90, 400, 900, 1994, 3999]
    invalid = ["", "IIII", "VV", "IC", "XM", "IL", "MMMM", "VX", "ABC", "XIIII", "CCCC", "DD", "LL", "iv", "IIV"]
    return numbers, rng.sample(invalid, 8)



def to_roman(n):
    """The reference numeral for 1 <= n <= 3999."""
    vals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
            (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    s = ""
    for v, r in vals:
        while n >= v:
            s, n = s + r, n - v
    return s
