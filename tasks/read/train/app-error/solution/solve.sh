#!/bin/bash
# The oracle reads the error and makes the one fix it names.
err=$(python3 /app/app.py 2>&1)
case "$err" in
    *"required file"*) touch "$(sed -E 's/.*required file (\S+) not found.*/\1/' <<<"$err")" ;;
    *"mode is"*) sed -i "s/^mode=.*/mode=$(sed -E "s/.*expected '(\w+)'.*/\1/" <<<"$err")/" /app/app.cfg ;;
    *"stale lock"*) rm "$(sed -E 's/.*stale lock (\S+) .*/\1/' <<<"$err")" ;;
esac
python3 /app/app.py
