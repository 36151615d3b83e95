#!/bin/bash
cat > /app/groupsum.py <<'PY'
import csv
import sys
from decimal import Decimal

group, value = sys.argv[1], sys.argv[2]
totals = {}
for row in csv.DictReader(sys.stdin):
    if row[value] != "":
        totals[row[group]] = totals.get(row[group], Decimal(0)) + Decimal(row[value])
for g in sorted(totals):
    print(f"{g},{totals[g]:.2f}")
PY
