#!/bin/bash
cd /app/repo
tag=$(git tag -l 'v*' | sort -V | tail -n 1)
git checkout -q -b hotfix "$tag"
IFS=. read -r major minor patch < VERSION
echo "$major.$minor.$((patch + 1))" > VERSION
git commit -q -am "Bump version to $major.$minor.$((patch + 1))"
