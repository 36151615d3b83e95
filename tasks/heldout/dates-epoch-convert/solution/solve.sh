#!/bin/bash
cd /app
{
  echo "time,event"
  tail -n +2 events.csv | while IFS=, read -r epoch event; do
    echo "$(date -u -d "@$epoch" '+%Y-%m-%d %H:%M:%S'),$event"
  done
} > events_utc.csv
