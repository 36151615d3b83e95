#!/bin/bash
grep -H '^date:' /app/reports/* | sort -k2 | tail -n 1 | cut -d: -f1 | xargs basename > /app/answer.txt
