#!/bin/bash
while read -r m p; do
    [ -n "$p" ] && chmod "$m" "/app/files/$p"
done < /app/modes.txt
