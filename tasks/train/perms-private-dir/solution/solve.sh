#!/bin/bash
find /app/secrets -type d -exec chmod 700 {} +
find /app/secrets -type f -exec chmod 600 {} +
