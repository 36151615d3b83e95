#!/bin/bash
cd /app/photos
declare -A seen
for f in $(ls | LC_ALL=C sort); do
    h=$(md5sum < "$f" | cut -d' ' -f1)
    if [ -n "${seen[$h]:-}" ]; then rm -- "$f"; else seen[$h]=1; fi
done
