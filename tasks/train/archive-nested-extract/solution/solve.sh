#!/bin/bash
cd /tmp && unzip -o /app/delivery.zip payload.tar.gz && mkdir -p /app/out && tar -xzf payload.tar.gz -C /app/out
