# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The volume group under an LVM thin pool: what the host has (PVs, VG, what each device carries)
and the plan that turns a list of devices into that VG (pvcreate, vgcreate, vgextend)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.devmapper.storage.plugins.module_utils.host.blkid import (
    BlockDevices,
    signatures,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
)

VG_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size,pv_count"
VOLUME_GROUP_INPUTS = (("vg", "vg_name"), ("devices", "path"))


def validate_params(params):
    """The options, checked before anything is read."""
    check_inputs(params, VOLUME_GROUP_INPUTS)
    if not params["devices"]:
        raise ModuleError("devices: give at least one block device")
    return params


class VolumeGroupIO(object):
    def __init__(self, module):
        self.lvm = LvmReports(module)
        self.block = BlockDevices(module)
        self.pvcreate = ToolRunner(module, "pvcreate")
        self.vgcreate = ToolRunner(module, "vgcreate")
        self.vgextend = ToolRunner(module, "vgextend")
        self.wipefs = ToolRunner(module, "wipefs")

    def read(self, vg_name):
        return {"pvs": self.lvm.pv_owners(), "vg": self.lvm.read_vg(vg_name, VG_FIELDS)}

    def probe(self, path):
        """What a device in the list is: whether it exists as a block device, its signatures
        (blkid -p, low level: partition tables too), and what of it is mounted or held."""
        real = os.path.realpath(path)
        probe = {"path": path, "real": real, "exists": os.path.exists(real), "block": False,
                 "signatures": [], "mounted": [], "holders": []}
        if not probe["exists"]:
            return probe
        probe["block"] = stat.S_ISBLK(os.stat(real).st_mode)
        if not probe["block"]:
            return probe
        probe["signatures"] = signatures(self.block.probe(real, strict=True))
        probe["mounted"] = self.block.mounted(real)
        holders = "/sys/class/block/%s/holders" % os.path.basename(real)
        if os.path.isdir(holders):
            probe["holders"] = sorted(os.listdir(holders))
        probe["partitions"] = partitions(os.path.basename(real))
        probe["partition_holders"] = dict((os.path.basename(p), h) for p, h in
                                          probe["partitions"].items() if h)
        probe["partition_signatures"] = dict(
            (p, signatures(self.block.probe(p, strict=True))) for p in probe["partitions"])
        return probe


def partitions(name):
    """{/dev/PARTITION: [holders]} of the disk ``name``'s partitions, from sysfs (holders: an
    active PV's LV, a RAID, dm-crypt)."""
    base = "/sys/class/block/%s" % name
    found = {}
    if not os.path.isdir(base):
        return found
    for entry in sorted(os.listdir(base)):
        if os.path.exists(os.path.join(base, entry, "partition")):
            holders_dir = os.path.join(base, entry, "holders")
            found["/dev/" + entry] = sorted(os.listdir(holders_dir)) \
                if os.path.isdir(holders_dir) else []
    return found


# Signatures that force never wipes: members of something that may be alive elsewhere
NEVER_WIPED = {
    "LVM2_member": "an LVM physical volume that pvs does not list (outside LVM's devices file, "
                   "or filtered out), which may belong to another volume group; make LVM see "
                   "it (lvmdevices --adddev) to find out",
    "linux_raid_member": "a member of a software RAID array",
    "crypto_LUKS": "a LUKS-encrypted volume",
    "zfs_member": "a member of a ZFS pool",
    "ceph_bluestore": "a Ceph OSD",
}


def plan_volume_group(io, params, current, probes):
    """Actions that make VG ``params['vg']`` hold every device of ``params['devices']``.

    Every device is judged before any action is planned, so one refusal means nothing runs.
    Returns (actions, devices to add, PVs of the VG that are not in the list)."""
    vg_name = params["vg"]
    pvs = current["pvs"]
    members = sorted(path for path, vg in pvs.items() if vg == vg_name)
    to_add, actions = [], []
    for path in params["devices"]:
        probe = probes[path]
        if not probe["exists"]:
            raise ModuleError("devices: %s does not exist" % path)
        if not probe["block"]:
            raise ModuleError("devices: %s is not a block device" % path)
        owner = pvs.get(probe["real"], pvs.get(path))
        if owner == vg_name:
            continue
        if owner:
            raise ModuleError("devices: %s is a physical volume of volume group %s; take it out "
                              "of %s first (vgreduce %s %s)" % (path, owner, owner, owner, path))
        if probe["mounted"]:
            raise ModuleError("devices: %s is in use (%s); unmount it first. force does not "
                              "override this" % (path, ", ".join(probe["mounted"])))
        if probe["holders"]:
            raise ModuleError("devices: %s is held by %s; release it first. force does not "
                              "override this" % (path, ", ".join(probe["holders"])))
        held = probe.get("partition_holders") or {}
        if held:
            raise ModuleError("devices: partitions of %s are in use (%s); release them first. "
                              "force does not override this"
                              % (path, "; ".join("%s held by %s" % (part, ", ".join(h))
                                                 for part, h in sorted(held.items()))))
        # a partition LVM lists, active or not: wiping the disk's partition table loses it
        pv_parts = ["%s (%s)" % (part, ("volume group " + pvs[part]) if pvs[part] else "no VG")
                    for part in sorted(probe.get("partitions") or {}) if part in pvs]
        if pv_parts:
            raise ModuleError("devices: %s has partitions that are LVM physical volumes: %s. "
                              "force does not override this: take them out of LVM first "
                              "(vgremove, pvremove), or name the partition instead of the disk"
                              % (path, ", ".join(pv_parts)))
        # a partition that is a member of something (not held: a closed LUKS volume, a RAID
        # member of an array not assembled, a PV pvs does not list): lost with the partition table
        part_members = ["%s is %s" % (part, NEVER_WIPED[sig]) for part, sigs
                        in sorted((probe.get("partition_signatures") or {}).items())
                        for sig in sigs if sig in NEVER_WIPED]
        if part_members:
            raise ModuleError("devices: %s has a partition that wiping it would destroy: %s. "
                              "force does not override this: name a free partition instead of "
                              "the disk, or wipe the disk by hand (wipefs --all) once you know "
                              "its partitions are not in use" % (path, "; ".join(part_members)))
        # (an orphan PV that pvs lists has owner "": it joins the VG as it is)
        never_wiped = [NEVER_WIPED[s] for s in probe["signatures"] if s in NEVER_WIPED]
        if never_wiped and owner is None:
            raise ModuleError("devices: %s is %s. force does not override this: wipe it by hand "
                              "(wipefs --all %s) once you know it is not in use"
                              % (path, never_wiped[0], path))
        if owner is None:       # not a PV yet
            if probe["signatures"]:
                if not params["force"]:
                    raise ModuleError(
                        "devices: %s carries %s; making it a physical volume destroys that. Set "
                        "force=true to wipe it" % (path, " and ".join(probe["signatures"])))
                actions.append(Action(io.wipefs, ["--all", probe["real"]],
                                      "wipe %s from %s (force=true)"
                                      % (" and ".join(probe["signatures"]), path)))
            actions.append(Action(io.pvcreate, ["--yes", probe["real"]],
                                  "make %s a physical volume" % path))
        to_add.append(probe["real"])
    if to_add:
        if current["vg"] is None:
            actions.append(Action(io.vgcreate, [vg_name] + to_add,
                                  "create volume group %s" % vg_name))
        else:
            actions.append(Action(io.vgextend, [vg_name] + to_add,
                                  "add %s to volume group %s" % (", ".join(to_add), vg_name)))
    wanted = set(probes[p]["real"] for p in params["devices"])
    left_out = [pv for pv in members if pv not in wanted]
    return actions, to_add, left_out


def vg_info(current, vg_name):
    vg = current["vg"]
    if vg is None:
        return None
    info = dict(vg)
    info["pvs"] = sorted(path for path, owner in current["pvs"].items() if owner == vg_name)
    return info


def probe_and_plan(module, io, params, current):
    """Probe every device in the list, then plan (``plan_volume_group``); PVs of the VG left out
    of the list are warned about before anything runs."""
    probes = dict((path, io.probe(path)) for path in params["devices"])
    actions, to_add, left_out = plan_volume_group(io, params, current, probes)
    if left_out:
        module.warn("%s of volume group %s %s not in devices; they stay in the VG (this module "
                    "does not shrink a VG)" % (", ".join(left_out), params["vg"],
                                               "is" if len(left_out) == 1 else "are"))
    return actions, to_add, left_out


def planned_vg(current, vg_name, to_add):
    """What check mode expects the VG to look like once ``to_add`` joined it."""
    planned = vg_info(current, vg_name) or {"name": vg_name, "pvs": []}
    if to_add:
        planned = dict(planned, pvs=sorted(set(planned["pvs"]) | set(to_add)))
    return planned
