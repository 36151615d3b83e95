#!/bin/bash
port=$(python3 /app/server.py 2>&1 | sed -nE 's/.*Next free port: ([0-9]+).*/\1/p')
sed -i "s/^PORT=.*/PORT=$port/" /app/server.env
