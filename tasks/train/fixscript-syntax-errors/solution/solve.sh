#!/bin/bash
cat > /app/sum_column.sh <<'EOF'
#!/bin/bash
# Usage: sum_column.sh FILE.csv
# Prints the sum of the second column (integers) of a CSV file with a header line.
total=0
first=1
while IFS=, read -r name value; do
    if [ $first -eq 1 ]; then
        first=0
        continue
    fi
    total=$((total + value))
done < "$1"
echo $total
EOF
