#!/bin/bash
# The NameError names the misspelled variable and suggests the right one: Did you mean: 'total'?
read -r bad good < <(python3 /app/calc.py 2>&1 |
    sed -n "s/.*name '\([a-z]*\)' is not defined. Did you mean: '\([a-z]*\)'.*/\1 \2/p")
sed -i "s/\b$bad\b/$good/" /app/calc.py
python3 /app/calc.py
