#!/bin/bash
cat > /app/stats.sh <<'EOF'
#!/bin/bash
# Usage: stats.sh FILE -- min, max and sum of the integers in FILE (one per line)
awk 'NR == 1 { min = max = $1 }
     { if ($1 < min) min = $1; if ($1 > max) max = $1; sum += $1 }
     END { print "min", min; print "max", max; print "sum", sum }' "$1"
EOF
chmod +x /app/stats.sh
