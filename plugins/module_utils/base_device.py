# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base thin device of a pool (dm_base_device): its thin id and activation at a size, then
its filesystem (module_utils/filesystem.py).

``plan_device`` is pure: it gets the pool as ``ThinDeviceIO.read_pool`` read it and returns the
actions, and whether the device grows (the filesystem grows with it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os

from ansible_collections.devmapper.storage.plugins.module_utils.filesystem import (
    FilesystemTools, plan_found_filesystem, read_filesystem)
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import thin_table
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, converge)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    SECTOR,
    human,
    parse_size,
    to_sectors,
    validate_thin_id,
)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    activate_action,
    check_name_free,
    id_known,
)


BASE_DEVICE_INPUTS = (("pool", "dm_name"), ("name", "dm_name"), ("size", "device_size"))


def requested_sectors(params):
    """The size asked for, in sectors (0 with state=absent), after checking the options."""
    check_inputs(params, BASE_DEVICE_INPUTS)
    validate_thin_id(params["device_id"], "device_id")
    sectors = 0
    if params["state"] == "present":
        sectors = to_sectors(parse_size(params["size"], "size"), "size")
    return sectors


def read_base_device(io, params):
    """{pool, view}: the pool as read, and the device as the diff shows it."""
    pool = io.read_pool(params["pool"])
    return {"pool": pool, "view": describe(io, params, pool)}


def plan_read_device(io, params, sectors, current):
    """``plan_device`` on what ``read_base_device`` read."""
    return plan_device(io, params, current["pool"], sectors)


def plan_device(io, params, pool, sectors):
    """Phase 1: the thin id and its activation at the asked size. Returns (actions, grew): grew
    when an active device is loaded with a larger table."""
    dev_id, name = params["device_id"], params["name"]
    active = pool["active"]
    known = id_known(pool, dev_id)
    check_name_free(active, name, dev_id)
    actions = []
    if params["state"] == "absent":
        if not known and name not in active:
            return [], False
        if not params["force"]:
            raise ModuleError("removing the base device deletes thin id %d and its data; set "
                              "force=true to remove it" % dev_id)
        if name in active:
            actions.append(io.dm.remove(name, "deactivate the base device"))
        if known:
            actions.append(io.dm.message(params["pool"], "delete %d" % dev_id, dev_id,
                                         "delete thin id %d" % dev_id))
        return actions, False
    if not known:
        actions.append(io.dm.message(params["pool"], "create_thin %d" % dev_id, dev_id,
                                     "create thin id %d" % dev_id))
    if name not in active:
        actions.append(activate_action(io, params["pool"], name, dev_id, sectors))
        return actions, False
    have = active[name]["sectors"]
    if sectors < have:
        raise ModuleError("size: refusing to shrink /dev/mapper/%s from %s to %s"
                          % (name, human(have * SECTOR), human(sectors * SECTOR)))
    grew = sectors > have
    if grew:
        actions += io.dm.reload_steps(name, thin_table(sectors, params["pool"], dev_id),
                                      ("suspend to grow to %s" % human(sectors * SECTOR),
                                       "load the larger table", "resume at the new size"))
    return actions, grew


def describe(io, params, pool):
    dev = pool["active"].get(params["name"])
    fs = io.block.probe("/dev/mapper/" + params["name"]) if dev else {}
    return {"thin_id_exists": bool(id_known(pool, params["device_id"])), "active": bool(dev),
            "size": dev["sectors"] * SECTOR if dev else None, "fs_type": fs.get("TYPE"),
            "uuid": fs.get("UUID")}


def device_active_now(module, params, pool):
    """Whether the device is there to carry a filesystem: in check mode a device this run would
    only create has none yet."""
    return params["name"] in pool["active"] or \
        (os.path.exists("/dev/mapper/" + params["name"]) and not module.check_mode)


def converge_filesystem(module, io, params, device, sectors):
    """Phase 2 of a present device (``device``: phase 1's converge): its filesystem read, planned
    and applied; the actions. The filesystem grows when the device grew in this run, or when it
    spans less of the device's ``sectors`` than it could (a run that grew the device stopped)."""
    tools = FilesystemTools(module)
    active = device_active_now(module, params, device.before["pool"])
    read = functools.partial(read_filesystem, io.block, "/dev/mapper/" + params["name"], active,
                             tools, params["fs_type"])
    plan = functools.partial(plan_found_filesystem, tools, params, device.decided[0],
                             sectors * SECTOR)
    return converge(module, read, plan, reread=False).actions


def device_report(io, params, sectors):
    """What the module returns about a present device (its filesystem as blkid sees it now)."""
    if params["state"] != "present":
        return {}
    device = "/dev/mapper/" + params["name"]
    fs = io.block.probe(device) if os.path.exists(device) else {}
    return {"device": device, "uuid": fs.get("UUID"), "fs_type": fs.get("TYPE"),
            "size": sectors * SECTOR}


def device_after(module, io, params, before, sectors):
    """The device as the diff shows it after the run (check mode: as the plan would leave it)."""
    if module.check_mode:
        present = params["state"] == "present"
        return dict(before, active=present, size=sectors * SECTOR if present else None,
                    fs_type=params["fs_type"] if present else None)
    return describe(io, params, io.read_pool(params["pool"]))
