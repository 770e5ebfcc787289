#!/usr/bin/env python3
"""A stand-in for a database: loads for a moment, then tells foster it is
ready through $NOTIFY_SOCKET (the sd_notify protocol) and serves a tiny
key-value store on 127.0.0.1:6380 until SIGTERM."""
import os, signal, socket, sys, time

def notify(message: str) -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(message.encode())

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("loading data...", flush=True)
time.sleep(0.5)
server = socket.create_server(("127.0.0.1", 6380), reuse_port=True)
print("accepting connections on 127.0.0.1:6380", flush=True)
notify("READY=1\nSTATUS=accepting connections")
store = {}
while True:
    conn, _ = server.accept()
    with conn:
        line = conn.recv(1024).decode().strip().split(" ", 2)
        if line[0] == "SET" and len(line) == 3:
            store[line[1]] = line[2]
            conn.sendall(b"OK\n")
        elif line[0] == "GET" and len(line) == 2:
            conn.sendall((store.get(line[1], "") + "\n").encode())
