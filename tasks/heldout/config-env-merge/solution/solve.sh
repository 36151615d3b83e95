#!/bin/bash
cd /app/config
cat defaults.env production.env | grep -v '^#' | grep -v '^$' \
  | awk '{ i = index($0, "="); k = substr($0, 1, i - 1); v[k] = substr($0, i + 1) } END { for (k in v) print k "=" v[k] }' \
  | LC_ALL=C sort > final.env
