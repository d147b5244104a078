# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lock per host around read -> plan -> apply: two runs at once (two ansible-playbook
processes, or a run and the boot script) take turns instead of planning on what the other is
changing. A ``flock`` on /run/devmapper-storage/host.lock, which the kernel releases when its
holder exits, crashed or not; the holder writes who it is into the file for a waiter to name.

Used by runners.converge (every module that changes the host, outside check mode) and, with
flock(1), by the pool activation script.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import time

LOCK_FILE = "/run/devmapper-storage/host.lock"
DEFAULT_TIMEOUT = 300
POLL_SECONDS = 0.5
# The option of every module that takes the lock (doc fragment devmapper.storage.host_lock)
LOCK_ARGS = {"lock_timeout": {"type": "int", "default": DEFAULT_TIMEOUT}}


class LockTimeout(Exception):
    def __init__(self, holder, waited):
        super(LockTimeout, self).__init__(holder)
        self.holder = holder
        self.waited = waited


class HostLock(object):
    """``with HostLock(who, timeout):`` holds the host's lock, waiting up to ``timeout`` seconds
    for another holder; LockTimeout names that holder (what its file says)."""

    def __init__(self, who, timeout=DEFAULT_TIMEOUT, path=LOCK_FILE, clock=time.monotonic,
                 sleep=time.sleep):
        self.who = who
        self.timeout = timeout
        self.path = path
        self.clock = clock
        self.sleep = sleep
        self.fd = None

    def __enter__(self):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = self.clock() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if self.clock() >= deadline:
                    holder = self._holder()
                    os.close(self.fd)
                    raise LockTimeout(holder, self.timeout)
                self.sleep(POLL_SECONDS)
        os.ftruncate(self.fd, 0)
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.write(self.fd, ("pid %d (%s, since %s)\n" % (
            os.getpid(), self.who, time.strftime("%Y-%m-%d %H:%M:%S"))).encode("utf-8"))
        return self

    def _holder(self):
        try:
            os.lseek(self.fd, 0, os.SEEK_SET)
            return os.read(self.fd, 512).decode("utf-8", "replace").strip() or "unknown"
        except OSError:
            return "unknown"

    def __exit__(self, *exc_info):
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
        return False
