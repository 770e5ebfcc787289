#!/bin/sh
# A web server that needs the database. When foster stops it, it looks whether
# db still answers: in a shutdown in dependency order it must (web stops first).
log() { echo "$*" >> /var/log/stack.log; }
db_state() { wget -q -O /dev/null http://127.0.0.1:5432/ && echo "db up" || echo "db down"; }
trap 'log "web stopping ($(db_state))"; exit 0' TERM
# /srv/www comes with the image; its health page is what the healthcheck asks for.
# db is started first but may take a moment to listen: wait for it (up to 10s).
for i in $(seq 100); do [ "$(db_state)" = "db up" ] && break; sleep 0.1; done
httpd -f -p 127.0.0.1:8080 -h /srv/www &
log "web started ($(db_state))"
wait
