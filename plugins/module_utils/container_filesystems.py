# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_container_filesystems: whether the root filesystem of each running container still
answers, and the plan that restarts those that do not.

A thin pool that ran out of data space queues writes, then fails them (no_space_timeout, 60 s).
A filesystem whose own metadata write failed stops answering: XFS shuts down (EIO on every call),
ext4 with errors=remount-ro turns read-only. Growing the pool does not bring such a filesystem
back; only a new mount does, which is what ``docker restart`` makes (the driver unmounts the
device when the container stops and mounts it again when it starts, replaying the log).

The probe is read only and looks at the container from the inside, through its first process:
``/proc/PID/mountinfo`` (the mount on / and its superblock's options) and a listing of
``/proc/PID/root``. It needs no storage driver's paths, and sees the filesystem even when dockerd
mounted it in a mount namespace of its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError,
    Step,
)


def mounts(mountinfo):
    """{mount_point, options, fs_type, source, super_options} of each line of a mountinfo text
    (the optional fields before " - " vary in number)."""
    for line in mountinfo.splitlines():
        head, separator, tail = line.partition(" - ")
        fields = head.split()
        if not separator or len(fields) < 6:
            continue
        fs_type, source, super_options = (tail.split() + ["", "", ""])[:3]
        yield {"mount_point": fields[4], "options": fields[5].split(","), "fs_type": fs_type,
               "source": source, "super_options": super_options.split(",")}


def root_mount(mountinfo):
    """The mount on / in a process's mountinfo text (see ``mounts``; the last one: a later mount
    on / hides the earlier); None when there is none."""
    found = None
    for mount in mounts(mountinfo):
        if mount["mount_point"] == "/":
            found = mount
    return found


def verdict(mount, listing_error):
    """(answers, why not) of a root filesystem from its mount and the error of listing it."""
    if mount is None:
        return False, "its process shows no mount on /"
    if listing_error:
        return False, "listing its root filesystem failed: %s" % listing_error
    # a container started with --read-only has its mount read-only, not its superblock
    if "ro" in mount["super_options"]:
        return False, "its root filesystem (%s on %s) turned read-only" % (
            mount["fs_type"], mount["source"])
    return True, ""


def container_row(inspect, mount, listing_error):
    """What the module reports of one running container (``docker container inspect`` JSON)."""
    graph = inspect.get("GraphDriver") or {}
    answers, why = verdict(mount, listing_error)
    return {"id": inspect["Id"], "name": inspect.get("Name", "").lstrip("/"),
            "pid": inspect["State"]["Pid"], "driver": graph.get("Name"),
            "device": (graph.get("Data") or {}).get("DeviceName"),
            "root_source": mount["source"] if mount else None,
            "root_fs_type": mount["fs_type"] if mount else None,
            "answers": answers, "why": why}


class UnmountWait(Step):
    """A step that waits until nothing mounts ``device`` in dockerd's mount table any more."""

    def __init__(self, device, seconds, mountinfo_path, clock=time.time, sleep=time.sleep):
        self.device = device
        self.seconds = seconds
        self.mountinfo_path = mountinfo_path
        self.clock = clock
        self.sleep = sleep
        self.why = ("Docker unmounts a stopped container's filesystem after the stop returns; a "
                    "start before that finds the old mount and fails with EIO")

    @property
    def command(self):
        return "wait until %s is unmounted" % self.device

    def mounted(self):
        with open(self.mountinfo_path) as handle:
            return any(m["source"] == self.device for m in mounts(handle.read()))

    def apply(self):
        deadline = self.clock() + self.seconds
        while self.mounted():
            if self.clock() >= deadline:
                raise ModuleError("%s is still mounted %d s after its container stopped: Docker "
                                  "itself must restart (systemctl restart docker.service)"
                                  % (self.device, self.seconds))
            self.sleep(0.5)


def dockerd_mountinfo(proc="/proc", pid_file="/run/docker.pid"):
    """The mount table dockerd sees (a dockerd with a mount namespace of its own mounts the
    containers' filesystems there, not in the host's)."""
    try:
        with open(pid_file) as handle:
            path = os.path.join(proc, handle.read().strip(), "mountinfo")
        if os.path.exists(path):
            return path
    except (IOError, OSError):
        pass
    return os.path.join(proc, "self", "mountinfo")


def plan_restarts(rows, docker_cli, restart, stop_seconds, mountinfo_path):
    """Stop, wait for the unmount, start: for each container whose root filesystem does not
    answer (nothing when ``restart`` is false: the module only reports). Not ``docker restart``:
    it starts the container again on the old mount when Docker has not yet taken it away."""
    actions = []
    for row in rows:
        if restart and not row["answers"]:
            why = "container %s: %s; a new mount of its filesystem brings it back" % (
                row["name"], row["why"])
            actions.append(docker_cli.stop(row["id"], stop_seconds, why))
            if (row["root_source"] or "").startswith("/dev/"):
                actions.append(UnmountWait(row["root_source"], stop_seconds + 60,
                                           mountinfo_path))
            actions.append(docker_cli.start(row["id"], why))
    return actions


def restart_report(before, after, restarting, check_mode):
    """{containers, restarted, not_answering, diff} of a run: ``before`` and ``after`` the rows
    read before and after it (the same in check mode, where the restarts are only planned)."""
    restarted = [row["name"] for row in before if not row["answers"]] if restarting else []

    # in check mode the restarted containers are predicted to answer
    return {"containers": after, "restarted": restarted,
            "not_answering": [row["name"] for row in after if not row["answers"]],
            "diff": {"before": dict((row["name"], row["answers"]) for row in before),
                     "after": dict((row["name"], row["answers"] or (
                         check_mode and row["name"] in restarted)) for row in after)}}


def probe(pid, proc="/proc"):
    """(mount on /, listing error or "") of the process ``pid``, read only."""
    base = os.path.join(proc, str(pid))
    try:
        with open(os.path.join(base, "mountinfo")) as handle:
            mount = root_mount(handle.read())
    except (IOError, OSError) as exc:
        return None, "reading %s/mountinfo failed: %s" % (base, exc.strerror or exc)
    try:
        os.listdir(os.path.join(base, "root") + "/")
        os.statvfs(os.path.join(base, "root") + "/")
    except (IOError, OSError) as exc:
        return mount, exc.strerror or str(exc)
    return mount, ""


def read_containers(docker_cli, proc="/proc"):
    """A row per running container (see ``container_row``), by name."""
    rows = []
    for inspect in docker_cli.inspect_all("container"):
        state = inspect.get("State") or {}
        if not state.get("Running") or not state.get("Pid"):
            continue
        mount, error = probe(state["Pid"], proc)
        rows.append(container_row(inspect, mount, error))
    return sorted(rows, key=lambda row: row["name"])
