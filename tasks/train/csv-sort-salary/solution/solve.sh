#!/bin/bash
cd /app
{ head -n 1 employees.csv; tail -n +2 employees.csv | LC_ALL=C sort -t, -k3,3nr -k1,1; } > sorted.csv
