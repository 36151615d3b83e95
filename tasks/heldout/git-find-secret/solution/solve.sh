#!/bin/bash
cd /app/repo
git log --format=%H -S DEBUG_PASSWORD --reverse -- config/settings.py | head -n 1 > /app/answer.txt
