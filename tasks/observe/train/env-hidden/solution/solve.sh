#!/bin/bash
bash -c '. /app/env.sh && echo "$API_KEY"' > /app/answer.txt
