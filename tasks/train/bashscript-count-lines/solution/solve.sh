#!/bin/bash
cat > /app/count_lines.sh <<'EOF'
#!/bin/bash
# Usage: count_lines.sh DIR -- total number of lines in DIR/*.txt
total=0
for f in "$1"/*.txt; do
    [ -f "$f" ] || continue
    n=$(wc -l < "$f")
    total=$((total + n))
done
echo "$total"
EOF
chmod +x /app/count_lines.sh
