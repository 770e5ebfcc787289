"""Stand-ins for systemd's side of its protocols, for the tests of foster as
a systemd unit: the notify socket a unit's main process sends to (a unix
datagram socket, sd_notify(3)), and the journal's two sockets (the native
protocol's datagrams, and the stdout stream protocol's header and lines)."""
import os
import select
import socket
import struct
import time

from helpers import PROMPT


def parse_notify(data):
    """A notify datagram as {VAR: value} (sd_notify(3): newline-separated
    VAR=VALUE assignments)."""
    out = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


# Python's socket module does not name it; 35 on every Linux architecture
# foster builds for (asm-generic/socket.h, x86).
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def arrival(ancillary):
    """The monotonic time a datagram arrived, from its SO_TIMESTAMPNS stamp
    (the realtime clock), or now if it has none."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", data[:16])
            return time.monotonic() - (time.time() - (sec + nsec / 1e9))
    return time.monotonic()


class NotifyListener:
    """systemd's end of NOTIFY_SOCKET: collects every datagram with the time
    it arrived."""

    def __init__(self, tmp, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        if abstract:
            name = f"foster-test-notify-{os.getpid()}-{id(self)}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = str(tmp / "systemd-notify.sock")
            self.sock.bind(self.address)
        # The kernel stamps each datagram as it arrives: a test descheduled
        # on a loaded machine reads late, but the gaps it sees stay true.
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.messages = []   # (monotonic time it arrived, {VAR: value})

    def env(self, base=None, **extra):
        env = dict(os.environ if base is None else base)
        for k in [k for k in env if k.startswith(("NOTIFY_SOCKET", "WATCHDOG_", "LISTEN_"))]:
            del env[k]
        env["NOTIFY_SOCKET"] = self.address
        env.update(extra)
        return env

    def _read(self, timeout):
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return False
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(65536, 64, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return True
            self.messages.append((arrival(ancillary), parse_notify(data)))

    def drain(self):
        self._read(0)
        return self.messages

    def collect(self, seconds):
        """Reads as messages arrive for `seconds` (so each gets the time it
        arrived); returns every message so far."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._read(left)
        return self.messages

    def wait_for(self, predicate, timeout=PROMPT, what="a notify message"):
        """The first message (at or after index `start` of self.messages)
        for which predicate(msg) holds; waits up to timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for t, m in self.messages[seen:]:
                if predicate(m):
                    return m
            seen = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {timeout}s; got {[m for _, m in self.messages]}")
            self._read(left)

    def wait_after(self, index, predicate, timeout=PROMPT, what="a notify message"):
        """Like wait_for, among the messages from `index` on; returns
        (message, its index)."""
        deadline = time.monotonic() + timeout
        i = index
        while True:
            while i < len(self.messages):
                if predicate(self.messages[i][1]):
                    return self.messages[i][1], i
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {timeout}s; got "
                                     f"{[m for _, m in self.messages[index:]]}")
            self._read(left)

    def close(self):
        self.sock.close()
