#!/bin/bash
delay=$(python3 /app/fetch.py 2>&1 | sed -nE 's/.*--delay ([0-9]+).*/\1/p')
python3 /app/fetch.py --delay "$delay" | sed -nE 's/^data: //p' > /app/answer.txt
