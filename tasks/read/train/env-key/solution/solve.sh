#!/bin/bash
err=$(python3 /app/run.py 2>&1)
name=$(sed -E 's/.*setting (\w+) is missing.*/\1/' <<<"$err")
file=$(sed -E 's/.*is in (\S+)\).*/\1/' <<<"$err")
echo "$name=$(cat "$file")" >> /app/run.env
