#!/bin/bash
grep -nx zebra /app/words.txt | cut -d: -f1 > /app/answer.txt
