#!/bin/bash
awk '{ s[$1] += $2 } END { for (c in s) print c, s[c] }' /app/expenses.txt | LC_ALL=C sort > /app/totals.txt
