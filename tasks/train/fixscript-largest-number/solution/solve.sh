#!/bin/bash
cat > /app/largest.sh <<'EOF'
#!/bin/bash
# Usage: largest.sh FILE
# Prints the largest integer in FILE (one integer per line).
max=
while read -r n; do
    if [ -z "$max" ] || [ "$n" -gt "$max" ]; then
        max=$n
    fi
done < "$1"
echo "$max"
EOF
