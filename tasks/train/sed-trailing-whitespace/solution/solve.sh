#!/bin/bash
sed -i -E 's/[[:blank:]]+$//' /app/code.txt
