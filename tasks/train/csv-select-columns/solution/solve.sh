#!/bin/bash
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } { print $c["email"] "," $c["name"] }' /app/users.csv > /app/emails.csv
