#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_base_device
short_description: The base thin device of a pool, with its filesystem
version_added: 0.1.0
description:
  - Creates a thin device (C(create_thin)) in a device-mapper thin pool, activates it under a name
    with the given size, and formats it once, as XFS (default) or as ext4 with the options Docker's
    devicemapper driver used (C(-E nodiscard,lazy_itable_init=0,lazy_journal_init=0), then
    C(tune2fs -c -1 -i 0)).
  - Grows only; growing the device grows its filesystem too. Never formats a device that has a
    filesystem of another type unless O(force=true), and never reformats one of the same type.
  - Returns the filesystem's UUID.
author:
  - devmapper.storage maintainers (@devmapper)
attributes:
  check_mode:
    support: full
    description: Reports the commands it would run in RV(actions), and runs none.
  diff_mode:
    support: full
    description: The device's size, filesystem and UUID before and after (in check mode, as planned).
options:
  pool:
    description: Device-mapper name of the thin pool.
    type: str
    required: true
  device_id:
    description: Thin id of the base device (0 to 16777215).
    type: int
    default: 0
  name:
    description: Device-mapper name to activate it under (C(/dev/mapper/NAME)).
    type: str
    required: true
  size:
    description:
      - Size of the device (Docker's default base size was V(10G)). Grow only. Required with
        O(state=present).
    type: str
  fs_type:
    description: Filesystem to create.
    type: str
    choices: [xfs, ext4]
    default: xfs
  state:
    description: V(present) creates, activates, formats and grows; V(absent) deactivates and deletes.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: Allow formatting over a filesystem of another type, and deleting the device.
    type: bool
    default: false
seealso:
  - module: devmapper.storage.dm_snapshot
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: A 10G XFS base device, id 0
  devmapper.storage.dm_base_device:
    pool: docker-thinpool
    name: docker-base
    size: 10G
  register: base
"""

RETURN = r"""
device:
  description: The activated device.
  returned: when state is present
  type: str
  sample: /dev/mapper/docker-base
uuid:
  description: UUID of its filesystem (null in check mode before it exists).
  returned: when state is present
  type: str
  sample: 5be152e4-1639-4701-b8f5-88b13195deee
fs_type:
  description: Its filesystem type.
  returned: when state is present
  type: str
  sample: xfs
size:
  description: Its size in bytes.
  returned: when state is present
  type: int
  sample: 10737418240
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/sbin/dmsetup message docker-thinpool 0 create_thin 0",
            "why": "create thin id 0"}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import thin_table
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
    apply_plan,
    exit_module,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    SECTOR,
    human,
    parse_size,
    to_sectors,
    validate_thin_id,
)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    ThinDeviceIO,
    activate_action,
    check_name_free,
    id_known,
)

EXT4_MKFS = ["-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0"]


class BaseDeviceIO(ThinDeviceIO):
    def filesystem(self, device):
        return self.block.probe(device)

    def mountpoint(self, device):
        return self.block.mountpoint(device)


def plan_device(io, params, pool, sectors):
    """Phase 1: the thin id and its activation at the asked size."""
    dev_id, name = params["device_id"], params["name"]
    active = pool["active"]
    known = id_known(pool, dev_id)
    if known is None:
        raise ModuleError("cannot tell which thin ids pool %s holds: thin_ls is missing "
                          "(install thin-provisioning-tools)" % params["pool"])
    check_name_free(active, name, dev_id)
    actions = []
    if params["state"] == "absent":
        if not known and name not in active:
            return []
        if not params["force"]:
            raise ModuleError("removing the base device deletes thin id %d and its data; set "
                              "force=true to remove it" % dev_id)
        if name in active:
            actions.append(io.dm.remove(name, "deactivate the base device"))
        if known:
            actions.append(io.dm.message(params["pool"], "delete %d" % dev_id, dev_id,
                                         "delete thin id %d" % dev_id))
        return actions
    if not known:
        actions.append(io.dm.message(params["pool"], "create_thin %d" % dev_id, dev_id,
                                     "create thin id %d" % dev_id))
    if name not in active:
        actions.append(activate_action(io, params["pool"], name, dev_id, sectors))
        return actions
    have = active[name]["sectors"]
    if sectors < have:
        raise ModuleError("size: refusing to shrink /dev/mapper/%s from %s to %s"
                          % (name, human(have * SECTOR), human(sectors * SECTOR)))
    if sectors > have:
        actions += io.dm.reload_steps(name, thin_table(sectors, params["pool"], dev_id),
                                      ("suspend to grow to %s" % human(sectors * SECTOR),
                                       "load the larger table", "resume at the new size"))
    return actions


def plan_filesystem(io, params, fs, grew, mountpoint):
    """Phase 2: format once, or grow the filesystem with the device."""
    device = "/dev/mapper/" + params["name"]
    fs_type = params["fs_type"]
    found = fs.get("TYPE")
    mkfs = ToolRunner(io.module, "mkfs." + fs_type)
    if found and found != fs_type and not params["force"]:
        raise ModuleError("fs_type: %s already holds a %s filesystem; set force=true to "
                          "reformat it as %s (its data is lost)" % (device, found, fs_type))
    if not found or found != fs_type:
        if fs_type == "ext4":
            return [Action(mkfs, ["-q"] + EXT4_MKFS + (["-F"] if found else []) + [device],
                           "make an ext4 filesystem as Docker's driver did"),
                    Action(ToolRunner(io.module, "tune2fs"), ["-c", "-1", "-i", "0", device],
                           "turn off periodic fsck")]
        # -K: do not discard blocks at mkfs time (a thin device has none allocated anyway)
        return [Action(mkfs, ["-q", "-K"] + (["-f"] if found else []) + [device],
                       "make an XFS filesystem")]
    if not grew:
        return []
    if fs_type == "ext4":
        steps = []
        if not mountpoint:
            steps.append(Action(ToolRunner(io.module, "e2fsck"), ["-f", "-p", device],
                                "check the filesystem, as resize2fs requires offline"))
        steps.append(Action(ToolRunner(io.module, "resize2fs"), [device],
                            "grow the filesystem with the device"))
        return steps
    growfs = ToolRunner(io.module, "xfs_growfs")
    if mountpoint:
        return [Action(growfs, [mountpoint], "grow the filesystem with the device")]
    temp = "/run/devmapper-storage/grow-" + params["name"]
    mount = ToolRunner(io.module, "mount")
    return [Action(mount, ["--mkdir", "-o", "nouuid", device, temp],
                   "mount it (XFS grows only while mounted)"),
            Action(growfs, [temp], "grow the filesystem with the device"),
            Action(ToolRunner(io.module, "umount"), [temp], "unmount it again")]


def run_module(module):
    params = module.params
    validate_thin_id(params["device_id"], "device_id")
    sectors = 0
    if params["state"] == "present":
        if not params["size"]:
            raise ModuleError("size is required with state=present")
        sectors = to_sectors(parse_size(params["size"], "size"), "size")
        if sectors == 0:
            raise ModuleError("size must be more than 0")
    io = BaseDeviceIO(module)
    pool = io.read_pool(params["pool"])
    device = "/dev/mapper/" + params["name"]
    before = describe(io, params, pool)
    actions = plan_device(io, params, pool, sectors)
    grew = any(a.args[:1] == ["reload"] for a in actions)
    if actions and not module.check_mode:
        apply_plan(actions)
    all_actions = list(actions)
    if params["state"] == "present":
        # in check mode a device this run would only create has no filesystem yet
        active_now = params["name"] in pool["active"] or \
            (os.path.exists(device) and not module.check_mode)
        fs = io.filesystem(device) if active_now else {}
        fs_actions = plan_filesystem(io, params, fs, grew,
                                     io.mountpoint(device) if active_now else None)
        if fs_actions and not module.check_mode:
            apply_plan(fs_actions)
        all_actions += fs_actions
    result = dict(changed=bool(all_actions), actions=[a.to_dict() for a in all_actions])
    if params["state"] == "present":
        fs = io.filesystem(device) if os.path.exists(device) else {}
        result.update(device=device, uuid=fs.get("UUID"), fs_type=fs.get("TYPE"),
                      size=sectors * SECTOR)
    if module._diff:
        if module.check_mode:
            after = dict(before, active=params["state"] == "present",
                         size=sectors * SECTOR if params["state"] == "present" else None,
                         fs_type=params["fs_type"] if params["state"] == "present" else None)
        else:
            after = describe(io, params, io.read_pool(params["pool"]))
        result["diff"] = {"before": before, "after": after}
    return result


def describe(io, params, pool):
    dev = pool["active"].get(params["name"])
    fs = io.filesystem("/dev/mapper/" + params["name"]) if dev else {}
    return {"thin_id_exists": bool(id_known(pool, params["device_id"])), "active": bool(dev),
            "size": dev["sectors"] * SECTOR if dev else None, "fs_type": fs.get("TYPE"),
            "uuid": fs.get("UUID")}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pool=dict(type="str", required=True),
            device_id=dict(type="int", default=0),
            name=dict(type="str", required=True),
            size=dict(type="str"),
            fs_type=dict(type="str", default="xfs", choices=["xfs", "ext4"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
