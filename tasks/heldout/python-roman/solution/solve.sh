#!/bin/bash
cat > /app/roman.py <<'PY'
VALUES = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def to_roman(n):
    if not isinstance(n, int) or not 1 <= n <= 3999:
        raise ValueError(f"out of range: {n!r}")
    out = []
    for value, numeral in VALUES:
        while n >= value:
            out.append(numeral)
            n -= value
    return "".join(out)


_TABLE = {to_roman(i): i for i in range(1, 4000)}


def from_roman(s):
    if s not in _TABLE:
        raise ValueError(f"not a canonical roman numeral: {s!r}")
    return _TABLE[s]
PY
