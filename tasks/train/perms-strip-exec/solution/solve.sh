#!/bin/bash
find /app/docs -type f -exec chmod a-x {} +
