#!/bin/bash
sed -i 's#http://#https://#g' /app/site/*.html
