#!/bin/bash
cd /app/docs
for f in *; do
    n=$(printf '%s' "$f" | tr 'A-Z ' 'a-z_')
    [ "$f" = "$n" ] || mv -- "$f" "$n"
done
