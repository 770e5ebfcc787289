#!/bin/sh
# A one-shot migration: runs once db is ready; web waits for it to succeed.
set -e
echo "applying migrations"
printf 'SET schema v2\n' | python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", 6380)); s.sendall(sys.stdin.buffer.read()); print(s.recv(64).decode().strip())'
echo "migrations done"
