#!/bin/bash
# Runs after the agent: check.py rebuilds the expected final state from TASK_SEED (via gen.py) and compares.
mkdir -p /logs/verifier
if python3 -I /tests/check.py; then
    echo 1 > /logs/verifier/reward.txt
else
    echo 0 > /logs/verifier/reward.txt
fi
