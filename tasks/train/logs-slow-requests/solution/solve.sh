#!/bin/bash
awk '$NF > 500 {print $7}' /app/access.log > /app/slow.txt
