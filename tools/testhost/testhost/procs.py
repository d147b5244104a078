"""Host processes of a lab: its guests' kernels and ssh forwarders, found and ended by their
command lines and sessions."""

import os
import signal
import subprocess
import time


class CommandError(RuntimeError):
    pass


def sh(argv, check=True):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if check and proc.returncode != 0:
        raise CommandError("%s failed (rc=%d): %s" % (" ".join(argv), proc.returncode,
                                                      proc.stderr.strip()))
    return proc


def pids_matching(pattern):
    """Pids of processes whose command line contains ``pattern`` (a NUL-joined argv substring)."""
    found = []
    needle = pattern.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry))
    return found


def session_members(sid):
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:      # field 6 of stat: session id
            members.append(int(entry))
    return members


def kill_tree(pid):
    """Kill a process started in a session of its own, with everything else in that session
    (a UML guest is several host processes)."""
    for member in set(session_members(pid) + [pid]):
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.time() + 10
    while time.time() < deadline and (alive(pid) or session_members(pid)):
        time.sleep(0.05)


def alive(pid):
    if not pid:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True
