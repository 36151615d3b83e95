#!/bin/bash
/app/job.sh; code=$?
awk -v c="$code" '$1 == c {print $2}' /app/codes.txt > /app/answer.txt
