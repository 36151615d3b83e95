#!/bin/bash
grep -rhoE '[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+' /app/contacts | LC_ALL=C sort -u > /app/emails.txt
