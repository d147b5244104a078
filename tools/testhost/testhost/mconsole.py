"""The user-mode Linux management console: a datagram socket each guest's kernel listens on
(``UML_DIR/UMID/mconsole``), through which the host adds and removes block devices of a running
guest. Tests use it to give a shared guest fresh disks instead of booting a new guest."""

import os
import socket
import struct
import tempfile

MAGIC = 0xcafebabe
VERSION = 2
MAX_DATA = 512
REPLY = struct.Struct("=III%ds" % MAX_DATA)     # err, more, len, data


class ConsoleError(RuntimeError):
    pass


def command(socket_path, text, timeout=30):
    """Send one mconsole command; returns the kernel's answer, raises ConsoleError on its error."""
    data = text.encode()
    if len(data) > MAX_DATA:
        raise ConsoleError("mconsole command too long: %r" % text)
    request = struct.pack("=III%ds" % MAX_DATA, MAGIC, VERSION, len(data), data)
    reply_dir = tempfile.mkdtemp(prefix="mconsole-")
    reply_path = os.path.join(reply_dir, "sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(reply_path)       # the kernel answers to the sender's address
        sock.settimeout(timeout)
        sock.sendto(request, socket_path)
        answer, more = [], 1
        err = 0
        while more:
            packet = sock.recv(REPLY.size)
            err, more, length, body = REPLY.unpack(packet.ljust(REPLY.size, b"\0"))
            answer.append(body[:length].rstrip(b"\0").decode(errors="replace"))
    except (OSError, socket.timeout) as exc:
        raise ConsoleError("mconsole %s: %r: %s" % (socket_path, text, exc))
    finally:
        sock.close()
        os.unlink(reply_path) if os.path.exists(reply_path) else None
        os.rmdir(reply_dir)
    text_answer = "".join(answer).strip()
    if err:
        raise ConsoleError("mconsole %r: %s" % (text, text_answer or "error %d" % err))
    return text_answer
