#!/bin/bash
grep 'Failed password for' /app/auth.log | sed -E 's/.*Failed password for (invalid user )?([^ ]+) from.*/\2/' | LC_ALL=C sort -u > /app/failed_users.txt
