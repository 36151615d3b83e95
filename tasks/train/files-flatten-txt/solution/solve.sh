#!/bin/bash
mkdir -p /app/flat
find /app/nested -type f -name '*.txt' -exec cp {} /app/flat/ \;
