#!/bin/bash
k=$(sed -E 's/.*line ([0-9]+).*/\1/' /app/start.txt)
sed -nE 's/^code: //p' "$(sed -n "${k}p" /app/index.txt)" > /app/answer.txt
