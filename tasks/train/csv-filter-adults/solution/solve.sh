#!/bin/bash
awk -F, 'NR == 1 || $3 >= 18' /app/people.csv > /app/adults.csv
