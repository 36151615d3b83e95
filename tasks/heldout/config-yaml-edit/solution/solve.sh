#!/bin/bash
cd /app/deploy
awk '
/^  [a-z]+:$/ { svc = $1 }
svc == "api:" && $1 == "replicas:" { print "    replicas: 5"; next }
svc == "worker:" && $1 == "image:" { sub(/:[^:]*$/, ":2.4.1") }
$1 == "LOG_LEVEL:" { print "      LOG_LEVEL: warn"; next }
{ print }
' services.yaml > services.yaml.new && mv services.yaml.new services.yaml
