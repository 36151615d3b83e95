#!/bin/bash
cd /app && find assets -type f -name '*.png' -exec zip -q -j images.zip {} +
