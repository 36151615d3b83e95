#!/bin/bash
awk -F' *= *' '/^\[/ {s = $0} s == "[db]" && $1 == "port" {print $2}' /app/app.ini > /app/answer.txt
