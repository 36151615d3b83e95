#!/bin/bash
cd /app/data && find . -type f -size +4096c | sed 's|^\./||' | LC_ALL=C sort > /app/large.txt
