#!/bin/bash
cat /app/logs/*.log | grep -ic timeout > /app/answer.txt
