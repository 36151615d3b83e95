#!/bin/bash
cd /app
python3 - <<'PY'
import datetime as dt, re
start, end = {}, {}
for line in open("/app/logs/jobs.log"):
    m = re.match(r"(\S+) job=(\S+) event=(\w+)", line)
    t = dt.datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%SZ")
    (start if m[3] == "start" else end)[m[2]] = t
with open("/app/durations.txt", "w") as f:
    for job in sorted(start):
        f.write(f"{job} {int((end[job] - start[job]).total_seconds())}\n")
PY
