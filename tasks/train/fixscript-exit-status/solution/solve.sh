#!/bin/bash
cat > /app/check_files.sh <<'EOF'
#!/bin/bash
# Usage: check_files.sh LIST
# Reports paths from LIST that do not exist; exits 1 if any is missing.
missing=0
while read -r p; do
    if [ ! -e "$p" ]; then
        echo "missing: $p"
        missing=1
    fi
done < "$1"
if [ $missing -eq 1 ]; then
    exit 1
fi
echo "all present"
EOF
