#!/bin/bash
mkdir -p /app/project
while IFS= read -r p; do
    [ -z "$p" ] && continue
    case "$p" in
        */) mkdir -p "/app/project/$p" ;;
        *) mkdir -p "$(dirname "/app/project/$p")"; : > "/app/project/$p" ;;
    esac
done < /app/layout.txt
