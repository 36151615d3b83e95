#!/bin/bash
cat > /app/rename_ext.sh <<'EOF'
#!/bin/bash
# Usage: rename_ext.sh DIR OLD NEW
# Renames every DIR/NAME.OLD to DIR/NAME.NEW.
dir=$1
old=$2
new=$3
for f in "$dir"/*."$old"; do
    [ -e "$f" ] || continue
    mv -- "$f" "${f%."$old"}.$new"
done
EOF
