#!/bin/bash
cd /app/docs
grep -rlF --include='*.txt' $'\r' . | sed 's|^\./||' | LC_ALL=C sort > /app/converted.txt
while read -r f; do sed -i 's/\r$//' "$f"; done < /app/converted.txt
