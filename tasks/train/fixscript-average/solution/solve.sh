#!/bin/bash
cat > /app/average.sh <<'EOF'
#!/bin/bash
# Usage: average.sh FILE
# Prints the average (rounded down) of the non-negative integers in FILE, one per line.
total=0
count=0
while read -r n; do
    total=$((total + n))
    count=$((count + 1))
done < "$1"
echo $((total / count))
EOF
