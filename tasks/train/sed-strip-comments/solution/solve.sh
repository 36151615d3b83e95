#!/bin/bash
sed -i -E '/^[[:space:]]*(#|$)/d' /app/notes.txt
