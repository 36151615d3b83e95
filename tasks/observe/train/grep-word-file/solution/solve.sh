#!/bin/bash
basename "$(grep -l urgent /app/docs/*)" > /app/answer.txt
