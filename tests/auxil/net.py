"""Loopback helpers."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

# Ports the tests hand out in this process: a port given once is not given again.
_given: set[int] = set()


def _ephemeral_low() -> int:
    """The lowest port the kernel picks for outgoing connections (Linux), else 32768."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now and stays free for a server to bind.

    Asking the kernel for port 0 returns an ephemeral port, and between that and the
    server's own bind any outgoing connection (a replica talking to PostgreSQL or to a
    fake API) can be given the same port: the server then dies with 'address already in
    use'. Ports below the ephemeral range are never handed to outgoing connections, so one
    is drawn from there, checked free, and never given twice by this process.
    """
    high = min(_ephemeral_low(), 32768) - 1
    low = 20000 if high > 21000 else 10000
    rng = random.Random(os.getpid() ^ random.getrandbits(32))  # noqa: S311 - not security
    for _ in range(200):
        port = rng.randint(low, high)
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port between {low} and {high}")
