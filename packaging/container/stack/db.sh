#!/bin/sh
# A stand-in database: answers HTTP on 127.0.0.1:5432 until foster stops it.
log() { echo "$*" >> /var/log/stack.log; }
trap 'log "db stopping"; exit 0' TERM
mkdir -p /srv/db && echo ok > /srv/db/index.html
httpd -f -p 127.0.0.1:5432 -h /srv/db &
log "db started"
wait
