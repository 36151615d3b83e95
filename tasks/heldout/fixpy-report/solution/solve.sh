#!/bin/bash
cd /app
sed -i 's/for line in lines\[2:\]:/for line in lines[1:]:/' report.py
sed -i 's/int(float(price))/float(price)/' report.py
sed -i 's/if qty \* price >= best_value:/if qty * price > best_value:/' report.py
sed -i 's/if qty <= 5\]/if qty < 5]/' report.py
