#!/bin/bash
tar -tvzf /app/dataset.tar.gz | grep '^-' | grep -c '\.csv$' > /app/answer.txt
