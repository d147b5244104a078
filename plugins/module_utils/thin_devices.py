# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin devices inside a pool: which ids the metadata holds, which are active under which dm
name, and the plan of pool messages that snapshot and delete them (dm_snapshot).

``plan_snapshot`` is pure: it gets the pool as ``ThinDeviceIO.read_pool`` read it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.host.blkid import BlockDevices
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import (
    DeviceMapper,
    metadata_path,
    thin_table,
)
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    parse_size,
    to_sectors,
    validate_thin_id,
)


NOT_LISTED = "not listed: read_metadata=true lists them"


class ThinDeviceIO(object):
    """Reads of a pool's thin devices, and the dm runner of the plans that change them."""

    def __init__(self, module):
        self.module = module
        self.dm = DeviceMapper(module)
        self.block = BlockDevices(module)

    def read_pool(self, pool, read_metadata=True):
        """The pool: table, status, its active thin devices and the thin ids its metadata holds
        (read from the metadata device, no message to the pool; ``read_metadata=False`` does not
        read them, and ``thin_ids_why`` says so)."""
        current = self.dm.read_thin_pool(pool)
        if current is None:
            raise ModuleError("pool: no device-mapper pool named %s (for an LVM pool give "
                              "VG-POOL-tpool, e.g. docker-thinpool-tpool)" % pool)
        current["active"] = self.dm.active_thins(current["devno"])
        current["thin_ids"] = None
        if read_metadata:
            current["thin_ids"] = self.dm.thin_ids_in_metadata(metadata_path(current["table"]))
        else:
            current["thin_ids_why"] = NOT_LISTED
        return current


def name_of_id(active, thin_id):
    for name, dev in sorted(active.items()):
        if dev["device_id"] == thin_id:
            return name
    return None


def id_known(pool_state, thin_id):
    """Whether the pool's metadata holds ``thin_id`` (read_pool read it)."""
    return thin_id in pool_state["thin_ids"]


def activate_action(io, pool_name, name, thin_id, sectors):
    return io.dm.create(name, thin_table(sectors, pool_name, thin_id),
                        "activate thin id %d as /dev/mapper/%s" % (thin_id, name))


def check_name_free(active, name, thin_id):
    if name in active and active[name]["device_id"] != thin_id:
        raise ModuleError("name: /dev/mapper/%s is already thin id %d, not %d"
                          % (name, active[name]["device_id"], thin_id))


SNAPSHOT_INPUTS = (("pool", "dm_name"), ("name", "dm_name"), ("size", "device_size"))


def validate_snapshot_params(params):
    check_inputs(params, SNAPSHOT_INPUTS)
    for option in ("snapshot_id", "origin_id"):
        if params[option] is not None:
            validate_thin_id(params[option], option)
    if params["snapshot_id"] is not None and params["snapshot_id"] == params["origin_id"]:
        raise ModuleError("snapshot_id and origin_id must differ")
    return params


def plan_snapshot(io, params, pool):
    """Pure: the steps from the pool as read to what is asked."""
    snap = params["snapshot_id"]
    name = params["name"]
    active = pool["active"]
    known = id_known(pool, snap)
    actions = []
    if params["state"] == "absent":
        if name and name in active:
            check_name_free(active, name, snap)
            actions.append(io.dm.remove(name, "deactivate the snapshot"))
        other = name_of_id(dict((n, d) for n, d in active.items() if n != name), snap)
        if other:
            raise ModuleError("snapshot_id: thin id %d is active as /dev/mapper/%s; deactivate "
                              "it first (or pass name=%s)" % (snap, other, other))
        if known:
            if not params["force"]:
                raise ModuleError("deleting thin id %d destroys its data; set force=true to "
                                  "delete it" % snap)
            actions.append(io.dm.message(params["pool"], "delete %d" % snap, snap,
                                         "delete thin id %d from the pool" % snap))
        return actions

    if name:
        check_name_free(active, name, snap)
    if not known:
        origin = params["origin_id"]
        if origin is None:
            raise ModuleError("origin_id is required to create snapshot %d" % snap)
        if not id_known(pool, origin):
            raise ModuleError("origin_id: thin id %d does not exist in pool %s"
                              % (origin, params["pool"]))
        origin_name = name_of_id(active, origin)
        message = io.dm.message(params["pool"], "create_snap %d %d" % (snap, origin), snap,
                                "snapshot thin id %d into %d" % (origin, snap))
        if origin_name:
            # the kernel snapshots only a quiesced origin: suspend flushes its in-flight I/O
            actions += [io.dm.suspend(origin_name, "suspend the active origin %s" % origin_name),
                        message,
                        io.dm.resume(origin_name, "resume the origin")]
        else:
            actions.append(message)
    if name and name not in active:
        if params["size"]:
            sectors = to_sectors(parse_size(params["size"], "size"), "size")
        else:
            origin_name = name_of_id(active, params["origin_id"]) \
                if params["origin_id"] is not None else None
            if origin_name is None:
                raise ModuleError("size is required to activate snapshot %d: its origin is not "
                                  "active to take the size from" % snap)
            sectors = active[origin_name]["sectors"]
        actions.append(activate_action(io, params["pool"], name, snap, sectors))
    return actions


def thin_devices_report(pool):
    """The thin devices of a pool as read, as dm_snapshot_info reports them."""
    report = {"thin_ids": pool["thin_ids"], "active_devices": pool["active"]}
    if pool["thin_ids"] is None:
        report["thin_ids_why"] = pool["thin_ids_why"]
    return report


def pool_view(pool):
    """A pool's thin ids and active devices as the diff shows them."""
    return {"thin_ids": pool["thin_ids"],
            "active": dict((n, d["device_id"]) for n, d in pool["active"].items())}


def predict_snapshot(params, pool):
    """What check mode expects the snapshot plan to leave."""
    ids = set(pool["thin_ids"] or [])
    active = dict(pool["active"])
    snap, name = params["snapshot_id"], params["name"]
    if params["state"] == "absent":
        ids.discard(snap)
        active.pop(name, None)
    elif params["state"] == "present":
        ids.add(snap)
        if name:
            active.setdefault(name, {"device_id": snap, "sectors": None})
    return {"thin_ids": sorted(ids), "active": active}
