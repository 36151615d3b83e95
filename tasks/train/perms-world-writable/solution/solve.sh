#!/bin/bash
cd /app/shared
find . -type f -perm -o=w | sed 's|^\./||' | LC_ALL=C sort > /app/world_writable.txt
find . -type f -perm -o=w -exec chmod o-w {} +
