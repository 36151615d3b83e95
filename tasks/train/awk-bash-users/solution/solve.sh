#!/bin/bash
awk -F: '$7 == "/bin/bash" { print $1 }' /app/passwd > /app/bash_users.txt
