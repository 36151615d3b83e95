#!/bin/bash
jq -s '.[0] + .[1]' /app/defaults.json /app/overrides.json > /app/merged.json
