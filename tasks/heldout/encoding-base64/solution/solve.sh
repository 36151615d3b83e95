#!/bin/bash
cd /app/inbox
mkdir -p decoded
while IFS= read -r line; do
  printf '%s' "${line#*: }" | base64 -d > "decoded/${line%%: *}.bin"
done < messages.txt
