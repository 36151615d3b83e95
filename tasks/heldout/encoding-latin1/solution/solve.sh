#!/bin/bash
cd /app/legacy
for f in *; do
  if ! iconv -f UTF-8 -t UTF-8 "$f" > /dev/null 2>&1; then
    iconv -f ISO-8859-1 -t UTF-8 "$f" > "/tmp/$f.utf8" && mv "/tmp/$f.utf8" "$f"
  fi
done
