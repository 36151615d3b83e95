#!/bin/bash
awk '!($1 in m) || $3 > m[$1] { m[$1] = $3 } END { for (n in m) print n, m[n] }' /app/scores.txt | LC_ALL=C sort > /app/best.txt
