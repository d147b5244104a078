"""Removing labs: from the names of what a lab makes alone, so that an interrupted ``up`` or a
crashed guest is cleaned up as well as a tidy lab."""

import json
import os
import shutil

from . import paths
from . import procs
from .lab import NAME_RE, check_name


def down(name):
    """Remove every process, namespace (with its bridge and taps) and file of a lab.

    Works from names alone, so a lab whose ``up`` was interrupted or whose guests crashed is
    cleaned up as well as a tidy one. Returns what it removed.
    """
    check_name("lab", name)
    removed = []
    lab_path = paths.lab_dir(name)
    state_pids = []
    if os.path.exists(os.path.join(lab_path, "state.json")):
        with open(os.path.join(lab_path, "state.json")) as handle:
            for record in json.load(handle).get("guests", []):
                state_pids += [record.get("pid"), record.get("forwarder_pid")]
    pids = set(p for p in state_pids if p and procs.alive(p) and _belongs(p, name))
    pids.update(procs.pids_matching("umid=th.%s." % name))
    pids.update(procs.pids_matching("--lab\0%s\0" % name))
    killed = 0
    for pid in sorted(pids):
        if procs.alive(pid):
            procs.kill_tree(pid)
            killed += 1
    if killed:
        removed.append("%d guest/forwarder process trees" % killed)
    netns = "dmlab-" + name
    if os.path.exists("/run/netns/" + netns):
        procs.sh(["ip", "netns", "delete", netns])
        removed.append("netns %s" % netns)
    if os.path.isdir(lab_path):
        shutil.rmtree(lab_path)
        removed.append("dir %s" % lab_path)
    return removed


def _belongs(pid, lab):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return False
    return ("umid=th.%s." % lab).encode() in cmdline or ("--lab\0%s\0" % lab).encode() in cmdline


def all_labs():
    """Lab names known from state directories, namespaces or running guests."""
    names = set()
    if os.path.isdir(paths.labs_dir()):
        names.update(os.listdir(paths.labs_dir()))
    if os.path.isdir("/run/netns"):
        names.update(n[len("dmlab-"):] for n in os.listdir("/run/netns") if n.startswith("dmlab-"))
    for pid in procs.pids_matching("umid=th."):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                for arg in handle.read().split(b"\0"):
                    if arg.startswith(b"umid=th."):
                        names.add(arg.decode().split(".")[1])
        except OSError:
            pass
    return sorted(n for n in names if NAME_RE.match(n))
