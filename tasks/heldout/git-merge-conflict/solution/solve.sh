#!/bin/bash
cd /app/repo
git merge --abort
git merge -q -X theirs --no-edit feature
