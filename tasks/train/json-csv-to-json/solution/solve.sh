#!/bin/bash
jq -R -s 'split("\n") | map(select(length > 0)) | .[1:] | map(split(","))
          | map({sku: .[0], name: .[1], qty: (.[2] | tonumber), price: (.[3] | tonumber)})' /app/inventory.csv > /app/inventory.json
