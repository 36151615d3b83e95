#!/bin/bash
cat > /app/extcount.sh <<'EOF'
#!/bin/bash
# Usage: extcount.sh DIR -- number of files under DIR per extension, as "EXT COUNT"
find "$1" -type f | while IFS= read -r p; do
    name=${p##*/}
    case "$name" in
        *.*) echo "${name##*.}" ;;
        *) echo none ;;
    esac
done | LC_ALL=C sort | uniq -c | awk '{ print $2, $1 }'
EOF
chmod +x /app/extcount.sh
