#!/bin/bash
cd /app/src && grep -rl 'TODO' . | sed 's|^\./||' | LC_ALL=C sort > /app/todo_files.txt
