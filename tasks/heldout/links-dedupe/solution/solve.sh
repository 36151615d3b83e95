#!/bin/bash
cd /app/cache
find . -type f -exec sha256sum {} + | sort | while read -r hash path; do
  if [ "$hash" = "$prev_hash" ]; then ln -f -- "$keep" "$path"; else keep=$path; prev_hash=$hash; fi
done
