#!/bin/bash
cat > /app/wordfreq.py <<'PY'
import re
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
counts = {}
with open(path) as f:
    for word in re.findall(r"[a-z]+", f.read().lower()):
        counts[word] = counts.get(word, 0) + 1
for word, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]:
    print(count, word)
PY
