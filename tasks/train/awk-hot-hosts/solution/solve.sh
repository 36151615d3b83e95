#!/bin/bash
awk -F'\t' 'NR > 1 && $2 > 80 { print $1 "\t" $3 }' /app/metrics.tsv > /app/hot.tsv
