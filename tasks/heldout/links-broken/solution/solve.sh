#!/bin/bash
cd /app/site
find . -type l ! -exec test -e {} \; -print | sed 's|^\./||' | LC_ALL=C sort > /app/broken.txt
while read -r p; do rm -- "$p"; done < /app/broken.txt
