#!/bin/bash
jq -s 'group_by(.status) | map({key: .[0].status, value: length}) | from_entries' /app/events.jsonl > /app/counts.json
