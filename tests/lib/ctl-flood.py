#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ctl-flood.py SOCKET N: opens N connections to secfud's control socket at
once, then sends a Status call on each; prints how many were answered (the
rest were closed by the daemon's connection caps).  Run it as the user
whose caps are tested, the script on standard input so that user need not
read the tree: runuser -u nobody -- python3 - SOCKET N <ctl-flood.py"""
import socket
import sys
import time

path, n = sys.argv[1], int(sys.argv[2])
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    conns.append(s)
time.sleep(0.5)
served = 0
for s in conns:
    s.settimeout(5)
    try:
        s.sendall(b'{"method":"org.secfu.Daemon.Status"}\0')
        if s.recv(65536):
            served += 1
    except OSError:
        pass
print(served)
