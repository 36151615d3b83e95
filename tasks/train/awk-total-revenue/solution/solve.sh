#!/bin/bash
awk '{ s += $2 * $3 } END { printf "%.2f\n", s }' /app/sales.txt > /app/answer.txt
