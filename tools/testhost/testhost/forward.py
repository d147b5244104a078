"""Loopback ports that lead to the guests' ssh inside the lab's network namespace.

The listening sockets are bound in the machine's own namespace (on 127.0.0.1 only); then the
process enters the lab's namespace, so every connection it opens to a guest is made there. Test
traffic thus never leaves loopback and the lab's namespace, and Ansible, molecule and testinfra
reach a guest as plain `ssh -p PORT root@127.0.0.1`.
"""

import argparse
import ctypes
import json
import os
import socket
import sys
import threading

CLONE_NEWNET = 0x40000000


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/%s" % name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _serve_one(client, target):
    try:
        upstream = socket.create_connection(target, timeout=5)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
    back.start()
    _pipe(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _accept_loop(listener, target):
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve_one, args=(client, target), daemon=True).start()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lab", required=True, help="lab name (lets `down` find this process)")
    parser.add_argument("--netns", required=True)
    parser.add_argument("--ports-file", required=True)
    parser.add_argument("targets", nargs="+", help="guest addresses, e.g. 10.77.0.11")
    args = parser.parse_args(argv)

    listeners = {}
    for address in args.targets:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        listeners[address] = sock
    # setns applies to the calling thread and the threads it creates later: enter the namespace
    # before starting any.
    enter_netns(args.netns)
    tmp = args.ports_file + ".tmp"
    with open(tmp, "w") as handle:
        json.dump({a: s.getsockname()[1] for a, s in listeners.items()}, handle)
    os.rename(tmp, args.ports_file)
    threads = [threading.Thread(target=_accept_loop, args=(s, (a, 22)), daemon=True)
               for a, s in listeners.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
