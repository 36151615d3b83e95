#!/bin/bash
sort /app/names.txt | tail -n 1 > /app/answer.txt
