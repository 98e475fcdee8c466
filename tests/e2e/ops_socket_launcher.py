#!/usr/bin/python3
"""Starts pagi-gateway the way systemd's socket activation does: binds the
listening sockets itself, moves them to fds 3, 4, ... and execs the gateway
(same pid) with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES set.

usage: ops_socket_launcher.py [--tcp4] [--tcp6] [--unix PATH] -- GATEWAY ARGS...
"""
import os
import socket
import sys


def main(argv):
    sep = argv.index("--")
    opts, command = argv[:sep], argv[sep + 1:]
    sockets, names = [], []
    i = 0
    while i < len(opts):
        if opts[i] == "--tcp4":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            names.append("web4")
        elif opts[i] == "--tcp6":
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind(("::1", 0))
            names.append("web6")
        elif opts[i] == "--unix":
            i += 1
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if os.path.exists(opts[i]):
                os.unlink(opts[i])
            s.bind(opts[i])
            names.append("webunix")
        else:
            raise SystemExit(f"unknown option {opts[i]}")
        s.listen(128)
        sockets.append(s)
        i += 1
    # Move them to 3.. in order (dup first so no target fd is clobbered).
    dups = [os.dup(s.fileno()) for s in sockets]
    for n, fd in enumerate(dups):
        os.dup2(fd, 3 + n, inheritable=True)
    os.environ["LISTEN_FDS"] = str(len(sockets))
    os.environ["LISTEN_PID"] = str(os.getpid())  # exec keeps the pid
    os.environ["LISTEN_FDNAMES"] = ":".join(names)
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
