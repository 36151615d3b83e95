#!/bin/bash
t=$(python3 /app/slow.py 2>&1 | sed -nE 's/.*--timeout ([0-9]+).*/\1/p')
python3 /app/slow.py --timeout "$t" | sed -nE 's/^result: //p' > /app/answer.txt
