#!/bin/bash
sed -i -E 's/^([^,]+), (.+)$/\2 \1/' /app/names.txt
