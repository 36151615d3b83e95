#!/bin/bash
err=$(python3 /app/install.py 2>&1)
pkg=$(sed -E 's/Error: (\w+)==.*/\1/' <<<"$err")
newest=$(sed -E 's/.*Available: //' <<<"$err" | tr ',' '\n' | tr -d ' ' | sort -t. -k1,1n -k2,2n | tail -n 1)
echo "$pkg==$newest" > /app/requirements.txt
