#!/bin/bash
path=$(python3 /app/report.py 2>&1 | sed -n "s/.*No such file or directory: '\(.*\)'.*/\1/p")
mkdir -p "$(dirname "$path")"
cp /app/input.txt "$path"
python3 /app/report.py
