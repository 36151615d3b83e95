#!/bin/bash
printf '%.2f\n' "$(jq '[.orders[].items[] | .qty * .price] | add' /app/orders.json)" > /app/answer.txt
