#!/bin/bash
sed -i 's/\bcat\b/dog/g' /app/story.txt
