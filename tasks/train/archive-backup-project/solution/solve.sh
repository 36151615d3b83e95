#!/bin/bash
cd /app && tar --exclude='*.log' -czf backup.tar.gz project
