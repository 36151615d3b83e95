#!/bin/bash
rm "$(python3 /app/report.py 2>&1 | sed -nE 's/.*delete the oldest, (\S+).*/\1/p')"
