#!/bin/bash
grep -rh '^API_TOKEN=' /app/haystack | head -n 1 | cut -d= -f2- > /app/token.txt
