#!/bin/bash
cd /app
awk '
/^\[/ { section = $0 }
section == "[database]" && $1 == "pool_size" { print "pool_size = " $3 * 2; next }
section == "[server]" && $1 == "port" { print "port = 8443"; next }
section == "[server]" && $1 == "debug" { next }
{ print }
END { print ""; print "[cache]"; print "backend = redis"; print "ttl = 300" }
' app.ini > app.ini.new && mv app.ini.new app.ini
