#!/bin/bash
cd /app
awk -F, 'NR == FNR { if (FNR > 1) name[$1] = $2; next }
         FNR > 1 { t[$2] += $3 }
         END { for (c in t) printf "%s,%.2f\n", name[c], t[c] }' customers.csv orders.csv | LC_ALL=C sort > /tmp/rows
{ echo "name,total"; cat /tmp/rows; } > report.csv
