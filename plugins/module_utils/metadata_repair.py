# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dm_thinpool_repair: a pool's damaged metadata repaired into new metadata, the old kept;
the raw pools' half (metadata_repair_lvm.py has the LVM pools').

Raw pools whose metadata is a file on a loop device, as loop_lvm and containerd_devmapper make
them. ``thin_check`` of the file decides. The repair dumps what can be read (``thin_dump
--repair``, XML kept beside the old metadata for the operator), repairs into a new sparse file of
the same size (``thin_repair``), checks it (``thin_check``) and compares the thin devices of both
(KeptDevices). Only then is the pool touched: removed when nothing holds it open, the file's loop
device detached, and the files swapped: the old one becomes FILE.damaged-STAMP and the new one
takes FILE's path, so that the boot unit and the roles find it where they always did. The pool
comes back with its activation (the role's activate, playbooks/reactivate.yml or the boot unit).

What thin_repair does with a device whose mapping tree is lost differs: 0.9 (bookworm) keeps it
with no mappings; 1.1.0 (trixie) drops it, and every device after it in the top-level tree, whose
trees were intact (seen on a guest). KeptDevices refuses such a loss without ``force``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import DeviceMapper
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import fsync_path
from ansible_collections.devmapper.storage.plugins.module_utils.host.loop import LoopDevices
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError,
    Step,
)
from ansible_collections.devmapper.storage.plugins.module_utils.thinpool import ThinPoolIO
from ansible_collections.devmapper.storage.plugins.module_utils.thin_metadata import (
    read_superblock, read_thin_ids)

# thin_check 0.9: "thin device 2 is missing mappings"; 1.x: "Thin device 2 is missing root"
DAMAGED_DEVICE = re.compile(r"thin device (\d+) is missing", re.IGNORECASE)


class SparseFile(Step):
    """A step that makes ``path`` an empty sparse file of ``size`` bytes (a leftover of an
    earlier, failed run is emptied first)."""

    def __init__(self, path, size, why):
        self.path = path
        self.size = size
        self.why = why

    @property
    def command(self):
        return "truncate --size %d %s (emptied first)" % (self.size, self.path)

    def apply(self):
        with open(self.path, "wb") as handle:
            handle.truncate(self.size)
            os.fsync(handle.fileno())


class Rename(Step):
    """A step that renames a file, and makes the rename durable."""

    def __init__(self, source, target, why):
        self.source = source
        self.target = target
        self.why = why

    @property
    def command(self):
        return "mv %s %s" % (self.source, self.target)

    def apply(self):
        os.rename(self.source, self.target)
        fsync_path(os.path.dirname(self.target) or ".")


def damaged_ids(check_output):
    """The thin devices thin_check names as damaged."""
    return sorted(set(int(found) for found in DAMAGED_DEVICE.findall(check_output or "")))


class KeptDevices(Step):
    """A step that compares the thin devices of the damaged and the repaired metadata (their
    device-details trees): a device thin_check did not name as damaged must still be there,
    unless ``force``."""

    def __init__(self, damaged, repaired, named, force, why):
        self.damaged = damaged
        self.repaired = repaired
        self.named = named
        self.force = force
        self.why = why

    @property
    def command(self):
        return "compare the thin devices of %s and %s" % (self.damaged, self.repaired)

    def apply(self):
        if self.force:
            return
        try:
            before = read_thin_ids(self.damaged)
        except ModuleError as exc:
            raise ModuleError("force: the thin devices of the damaged metadata cannot be listed "
                              "(%s), so a loss cannot be ruled out; nothing of the pool was "
                              "changed. force=true swaps the repaired metadata in anyway" % exc.msg)
        lost = sorted(set(before) - set(read_thin_ids(self.repaired)) - set(self.named))
        if lost:
            raise ModuleError(
                "force: thin_repair dropped thin devices %s, which thin_check did not name as "
                "damaged (it named %s); nothing of the pool was changed, and the repaired copy "
                "is at %s. force=true swaps it in anyway, losing them"
                % (", ".join(str(i) for i in lost),
                   ", ".join(str(i) for i in self.named) or "none", self.repaired))


class RepairIO(object):
    def __init__(self, module):
        self.dm = DeviceMapper(module)
        self.loops = LoopDevices(module)
        self.pools = ThinPoolIO(module)


def live_verdict(status, features):
    """(sound, what was seen) of an active pool's metadata from the kernel's status: its own
    judgement of live metadata (thin_check would race with its writes)."""
    loaded_read_only = "read_only" in features
    sound = not (status.needs_check or status.failed or
                 (status.read_only and not loaded_read_only))
    seen = "pool active, mode %s%s" % (status.mode, ", needs_check" if status.needs_check else "")
    return sound, seen


def read_dm(io, params):
    """What the plan needs of the pool and its metadata file."""
    check_inputs(params, (("name", "dm_name"), ("metadata_file", "path")))
    path = params["metadata_file"]
    if not os.path.isfile(path):
        raise ModuleError("no file at %s (metadata_file)" % path)
    if read_superblock(path) is None:
        # thin_repair cannot repair what holds no superblock, and a wrong file (the data file)
        # must never be swapped out
        raise ModuleError("%s holds no thin-pool superblock (metadata_file): it is not a pool's "
                          "metadata, or its first block is lost" % path)
    name = params["name"]
    pool = io.dm.read_thin_pool(name)
    current = {"name": name, "metadata_file": path, "size": os.path.getsize(path),
               "active": pool is not None, "open_count": 0, "thin_devices": [],
               "loop": io.loops.associations().get(os.path.realpath(path))}
    if pool is not None:
        current["open_count"] = io.dm.open_count(name)
        current["thin_devices"] = sorted(io.dm.active_thins(pool["devno"]))
        current["sound"], current["check_output"] = live_verdict(
            pool["status"], pool["table"].get("features", []))
    else:
        current["sound"], current["check_output"] = io.dm.check_metadata_file(path)
    return current


def refuse_in_use(current):
    if current["active"] and (current["open_count"] or current["thin_devices"]):
        raise ModuleError(
            "name: pool %s is in use (open %d times; active thin devices: %s): a repair needs it "
            "down. Stop what uses it (Docker: systemctl stop docker.service; containerd: "
            "systemctl stop containerd.service) and deactivate its thin devices, then run again"
            % (current["name"], current["open_count"],
               ", ".join(current["thin_devices"]) or "none"))


def plan_dm(io, current, force, stamp=None):
    """The repair's steps; none when the metadata is sound. Nothing of the pool changes before
    the repaired metadata has passed thin_check and kept the devices it must keep."""
    if current["sound"]:
        return []
    refuse_in_use(current)
    path = current["metadata_file"]
    stamp = stamp or time.strftime("%Y%m%dT%H%M%S")
    kept, new = "%s.damaged-%s" % (path, stamp), path + ".repaired"
    actions = [
        io.dm.dump_readable(path, kept + ".xml",
                            "what can be read of the damaged metadata, kept for the operator"),
        SparseFile(new, current["size"], "new metadata of the same size"),
        io.dm.repair(path, new, "repair what can be read into the new metadata"),
        io.dm.check_step(new, "the repaired metadata must pass before it is swapped in"),
        KeptDevices(path, new, damaged_ids(current["check_output"]), force,
                    "a device thin_check did not name as damaged must survive the repair"),
    ]
    if current["active"]:
        actions.append(io.dm.remove(current["name"], "the kernel must not write the metadata "
                                    "while it is swapped"))
    if current["loop"]:
        actions.append(io.loops.detach(current["loop"], "the loop device holds the damaged file; "
                                       "the activation attaches the repaired one"))
    return actions + [
        Rename(path, kept, "the damaged metadata is kept aside"),
        Rename(new, path, "the repaired metadata takes the path the boot unit and the roles use"),
    ]
