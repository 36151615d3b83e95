#!/bin/bash
cat > /app/topwords.sh <<'EOF'
#!/bin/bash
# Usage: topwords.sh FILE N -- the N most frequent words of FILE as "COUNT WORD"
export LC_ALL=C
tr -cs 'A-Za-z' '\n' < "$1" | tr 'A-Z' 'a-z' | grep -v '^$' | sort | uniq -c |
    sort -k1,1nr -k2,2 | head -n "$2" | awk '{ print $1, $2 }'
EOF
chmod +x /app/topwords.sh
