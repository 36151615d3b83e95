#!/bin/bash
# Runs after the agent: check.py rebuilds the expected files from TASK_SEED (via gen.py) and reads /app.
mkdir -p /logs/verifier
if python3 /tests/check.py; then
    echo 1 > /logs/verifier/reward.txt
else
    echo 0 > /logs/verifier/reward.txt
fi
