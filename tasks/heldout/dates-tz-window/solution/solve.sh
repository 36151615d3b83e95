#!/bin/bash
cd /app
python3 - <<'PY'
import datetime as dt, re
lo = dt.datetime(2024, 3, 10, 12, tzinfo=dt.timezone.utc)
hi = dt.datetime(2024, 3, 10, 14, tzinfo=dt.timezone.utc)
out = []
for line in open("/app/access.log"):
    t = dt.datetime.strptime(re.search(r"\[([^\]]+)\]", line)[1], "%d/%b/%Y:%H:%M:%S %z")
    if lo <= t < hi:
        out.append(line)
open("/app/window.log", "w").writelines(out)
open("/app/count.txt", "w").write(f"{len(out)}\n")
PY
