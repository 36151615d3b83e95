#!/bin/bash
awk '!seen[$0]++' /app/records.csv > /app/clean.csv
