"""The host lock (module_utils/host/lock.py) between real processes on a lock file in a temporary
directory: a second holder waits for the first, or gives up after its timeout naming the first;
converge() takes it outside check mode and turns a timeout into a refusal that changed nothing."""

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import runners
from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import (
    HostLock, LockTimeout)

HOLD = """
import sys, time
sys.path[:0] = %r
from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import HostLock
with HostLock("loop_pool", 5, sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def holder(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD % sys.path, path, str(seconds)],
                            stdout=subprocess.PIPE, universal_newlines=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_waits_for_the_first(tmp_path):
    path = str(tmp_path / "run" / "host.lock")
    first = holder(path, 1.0)
    started = time.monotonic()
    with HostLock("dm_thinpool", 10, path):
        waited = time.monotonic() - started
        assert "dm_thinpool" in open(path).read()
    first.wait()
    assert waited >= 0.5


def test_a_waiter_gives_up_naming_the_holder(tmp_path):
    path = str(tmp_path / "host.lock")
    first = holder(path, 3.0)
    try:
        with pytest.raises(LockTimeout) as timed_out:
            with HostLock("dm_thinpool", 0.6, path):
                pass
        assert timed_out.value.holder.startswith("pid %d (loop_pool, since " % first.pid)
    finally:
        first.kill()
        first.wait()
    with HostLock("dm_thinpool", 1, path):      # the kernel let go of the killed holder's lock
        pass


class Module(object):
    def __init__(self, check_mode, lock_timeout=7):
        self.check_mode = check_mode
        self.params = {"lock_timeout": lock_timeout}
        self._name = "loop_pool"


def test_converge_holds_the_lock_outside_check_mode_only(monkeypatch):
    taken = []

    class Lock(object):
        def __init__(self, who, timeout):
            taken.append((who, timeout))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False
    monkeypatch.setattr(runners, "HostLock", Lock)
    runners.converge(Module(False), lambda: "x", lambda current: [])
    runners.converge(Module(True), lambda: "x", lambda current: [])
    runners.converge(Module(False, None), lambda: "x", lambda current: [])
    assert taken == [("loop_pool", 7)]


def test_a_timeout_is_a_refusal_that_names_the_holder(monkeypatch):
    class Busy(object):
        def __init__(self, who, timeout):
            self.timeout = timeout

        def __enter__(self):
            raise LockTimeout("pid 42 (dm_thinpool, since 2026-11-25 12:00:00)", self.timeout)

        def __exit__(self, *exc):
            return False
    monkeypatch.setattr(runners, "HostLock", Busy)
    with pytest.raises(runners.ModuleError) as refused:
        runners.converge(Module(False), lambda: pytest.fail("read without the lock"),
                         lambda current: [])
    assert refused.value.msg.startswith(
        "lock_timeout: another run has held this host's lock (/run/devmapper-storage/host.lock)"
        " for more than 7 s: pid 42 (dm_thinpool, since 2026-11-25 12:00:00). Nothing was "
        "changed")
    assert os.path.basename(runners.LOCK_FILE) == "host.lock"
