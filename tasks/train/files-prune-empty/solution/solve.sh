#!/bin/bash
find /app/workspace -type f -empty -delete
find /app/workspace -mindepth 1 -type d -empty -delete
