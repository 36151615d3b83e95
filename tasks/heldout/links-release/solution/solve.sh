#!/bin/bash
cd /app
newest=$(ls releases | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
ln -sfn "releases/$newest" current
rm -f bin/*
for f in releases/"$newest"/bin/*; do
  ln -s "../current/bin/$(basename "$f")" "bin/$(basename "$f")"
done
