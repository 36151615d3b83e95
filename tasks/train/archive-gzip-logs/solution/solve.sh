#!/bin/bash
gzip /app/logs/*.log
