#!/bin/bash
cat > /app/backup.sh <<'EOF'
#!/bin/bash
# Usage: backup.sh SRC DEST -- copy each regular file SRC/NAME to DEST/NAME.bak
src=$1
dest=$2
if [ ! -d "$src" ]; then
    echo "backup.sh: '$src' is not a directory" >&2
    exit 1
fi
mkdir -p "$dest"
for f in "$src"/*; do
    if [ -f "$f" ]; then
        cp -- "$f" "$dest/$(basename "$f").bak"
    fi
done
exit 0
EOF
chmod +x /app/backup.sh
