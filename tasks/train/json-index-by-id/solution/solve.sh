#!/bin/bash
jq 'map({key: (.id | tostring), value: .name}) | from_entries' /app/items.json > /app/by_id.json
