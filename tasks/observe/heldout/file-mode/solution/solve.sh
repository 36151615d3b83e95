#!/bin/bash
stat -c %a /app/secret.key > /app/answer.txt
