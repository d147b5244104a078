# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw device-mapper thin pools: what the pool's devices are, the plan from the pool as read to
what is asked, and the pool as the module reports it.

``plan_dm_pool`` is pure: it gets the pool as read and the devices described by the caller
(``dm_devices``), and returns actions or raises ``ModuleError``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    parse_thin_pool_table,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host.blkid import AMBIVALENT_TYPE
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import metadata_path
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_metadata import (
    BLOCK,
    parse_superblock,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    SECTOR,
    human,
    round_down,
)

# dm-thin cannot use more metadata than this; a larger metadata device is not an error, but its
# excess must not look like room to grow into on every run.
MAX_METADATA_BYTES = 255 * (1 << 14) * 8 * SECTOR


def device_numbers(path):
    """'major:minor' of a block device path, as dm tables name devices."""
    st = os.stat(path)
    if not stat.S_ISBLK(st.st_mode):
        raise ModuleError("%s is not a block device" % path)
    return "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))


def device_size(path):
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        return handle.tell()


def metadata_kind(path):
    """(kind, needs_check) of a metadata device: kind 'empty' (all zeros: the kernel formats
    it), 'thin' (a thin-pool superblock) or 'other'; needs_check the superblock's flag (the
    kernel sets it on a metadata error, and then brings the pool up read-only)."""
    with open(path, "rb") as handle:
        block = handle.read(BLOCK)
    if not block.strip(b"\0"):
        return "empty", False
    superblock = parse_superblock(block)
    if superblock is not None:
        return "thin", superblock["needs_check"]
    return "other", False


def describe_device(path, role):
    if not os.path.exists(path):
        raise ModuleError("%s: %s does not exist" % (role, path))
    return {"path": path, "devno": device_numbers(path), "size": device_size(path)}


def _carried(signature):
    """blkid's signature as the refusals say it."""
    return signature if signature == AMBIVALENT_TYPE else "a %s signature" % signature


def blkid_signature(io, path):
    found = io.block.probe(path)
    return found.get("TYPE") or found.get("PTTYPE")


def pool_table(data_sectors, metadata_dev, data_dev, block_sectors, low_water_mark,
               skip_block_zeroing, error_if_no_space):
    features = []
    if skip_block_zeroing:
        features.append("skip_block_zeroing")
    if error_if_no_space:
        features.append("error_if_no_space")
    return "0 %d thin-pool %s %s %d %d %d%s" % (
        data_sectors, metadata_dev, data_dev, block_sectors, low_water_mark, len(features),
        "".join(" " + f for f in features))


def plan_dm_pool(io, params, current, devices):
    """Actions for a raw device-mapper thin pool over ``devices`` (data and metadata paths with
    their 'major:minor', size, metadata kind and blkid signature, read by the caller)."""
    state = params["state"]
    name = params["name"]
    if state in ("absent", "inactive"):
        if current is None:
            return []
        actions = []
        if current["users"]:
            raise ModuleError("pool %s is in use by the thin devices %s; remove them first"
                              % (name, ", ".join(current["users"])))
        if state == "absent" and not params["force"] and (
                current["thin_ids"] or may_hold_thins(current)):
            detail = ("holds thin devices %s" % current["thin_ids"]) if current["thin_ids"] \
                else "has been used (transaction id %s, %s data blocks used)" % (
                    current["status"].transaction_id, current["status"].data_used)
            raise ModuleError("pool %s %s; removing it destroys them. Set force=true to remove it"
                              % (name, detail))
        actions.append(io.dm.remove(name, "remove the pool's device-mapper device"))
        if state == "absent":
            actions.append(Action(io.dd, ["if=/dev/zero", "of=" + current["metadata_path"],
                                          "bs=4096", "count=1", "oflag=direct", "conv=fsync"],
                                  "wipe the metadata superblock so the pool is gone for good"))
        return actions

    data, meta = devices["data"], devices["metadata"]
    block = params["block_sectors"]
    length = round_down(data["size"] // SECTOR, block)
    if length < block:
        raise ModuleError("data_device: %s (%s) is smaller than one block (%s)"
                          % (data["path"], human(data["size"]), human(block * SECTOR)))
    table = pool_table(length, meta["devno"], data["devno"], block, params["low_water_mark"],
                       params["skip_block_zeroing"], params["error_if_no_space"])
    if current is None:
        actions = []
        if meta["kind"] == "empty" and meta["signature"] and not params["force"]:
            # a first block of zeros is what the kernel formats, but blkid finds data further
            # in (an ISO 9660 image at 32 KiB, several signatures): the device is not empty
            raise ModuleError(
                "metadata_device: %s carries %s; a new pool would overwrite it. Set force=true "
                "to use it anyway" % (meta["path"], _carried(meta["signature"])))
        if meta["kind"] == "other":
            if not params["force"]:
                raise ModuleError(
                    "metadata_device: %s holds data that is not thin-pool metadata%s; set "
                    "force=true to zero its first 4 KiB and start an empty pool"
                    % (meta["path"], " (%s)" % meta["signature"] if meta["signature"] else ""))
            actions.append(Action(io.dd, ["if=/dev/zero", "of=" + meta["path"], "bs=4096",
                                          "count=1", "oflag=direct", "conv=fsync"],
                                  "wipe the metadata device's first block (force=true)"))
        if meta["kind"] != "thin" and data["signature"] and not params["force"]:
            raise ModuleError("data_device: %s carries %s; a new pool would overwrite it. Set "
                              "force=true to use it anyway"
                              % (data["path"], _carried(data["signature"])))
        if state == "active" and meta["kind"] != "thin":
            raise ModuleError("metadata_device: %s holds no thin-pool metadata; state=active only "
                              "brings back an existing pool (use state=present to create one)"
                              % meta["path"])
        if meta["kind"] == "thin" and meta["needs_check"]:
            # thin_check found the metadata clean (dm_devices); with the flag the kernel would
            # bring the pool up read-only
            actions.append(io.dm.clear_needs_check(
                meta["path"], "clear the needs_check flag the kernel set on the metadata (thin_check "
                "found it clean); with it the pool would come up read-only"))
        actions.append(io.dm.create(name, table, "create the pool" if meta["kind"] != "thin"
                                    else "re-create the pool's table over its existing metadata"))
        return actions

    old = current["table"]
    if old["data_dev"] != data["devno"] or old["metadata_dev"] != meta["devno"]:
        raise ModuleError("pool %s already runs on data %s and metadata %s, not on %s and %s"
                          % (name, old["data_dev"], old["metadata_dev"], data["devno"],
                             meta["devno"]))
    if old["block_sectors"] != block:
        raise ModuleError("block_size: pool %s has %s blocks; the block size cannot change"
                          % (name, human(old["block_sectors"] * SECTOR)))
    if length < old["length_sectors"]:
        raise ModuleError("data_device: %s is now %s, smaller than the pool (%s); thin pools "
                          "cannot shrink" % (data["path"], human(data["size"]),
                                             human(old["length_sectors"] * SECTOR)))
    reasons = []
    if length > old["length_sectors"]:
        reasons.append("grow data from %s to %s" % (human(old["length_sectors"] * SECTOR),
                                                    human(length * SECTOR)))
    if parse_thin_pool_table(table)["features"] != old["features"] or \
            old["low_water_mark"] != params["low_water_mark"]:
        reasons.append("change features to %s, low water mark %d"
                       % (" ".join(parse_thin_pool_table(table)["features"]) or "none",
                          params["low_water_mark"]))
    status = current["status"]
    usable_meta = min(meta["size"], MAX_METADATA_BYTES) // 4096
    if status.metadata_total is not None and usable_meta > status.metadata_total:
        reasons.append("use the grown metadata device (%s)" % human(usable_meta * 4096))
    if not reasons:
        return []
    why = "; ".join(reasons)
    return io.dm.reload_steps(name, table, ("suspend the pool to " + why, "load the new table",
                                            "resume the pool with the new table"))


def dm_pool_info(current, name):
    if current is None:
        return {"name": name, "backend": "dm", "exists": False, "active": False}
    status = current["status"].to_dict()
    table = current["table"]
    info = {"name": name, "backend": "dm", "exists": True, "active": True,
            "device": "/dev/mapper/" + name, "block_size": table["block_sectors"] * SECTOR,
            "low_water_mark": table["low_water_mark"], "features": table["features"],
            "data_device": table["data_dev"], "metadata_device": table["metadata_dev"],
            "active_thin_devices": current["users"], "thin_device_count": None}
    if current.get("thin_ids") is not None:
        info["thin_device_count"] = len(current["thin_ids"])
    info.update(status)
    return info


def read_dm(io, params):
    current = io.dm.read_thin_pool(params["name"])
    if current is not None:
        current["users"] = sorted(io.dm.active_thins(current["devno"]))
        current["metadata_path"] = metadata_path(current["table"])
        current["thin_ids"] = io.dm.thin_ids_in_metadata(current["metadata_path"])
    return current


def may_hold_thins(current):
    """Whether a pool has been used, by its status: it has had a transaction or uses data blocks
    (a pool just made has neither). Removing such a pool takes force even when its metadata
    lists no thin id."""
    status = current["status"]
    return bool(status.transaction_id or status.data_used or status.failed)


def dm_devices(io, params, current):
    devices = {}
    for role in ("data", "metadata"):
        device = describe_device(params[role + "_device"], role + "_device")
        if current is None:
            device["kind"], device["needs_check"] = metadata_kind(device["path"]) \
                if role == "metadata" else (None, False)
            device["signature"] = blkid_signature(io, device["path"])
        devices[role] = device
    if current is None and devices["metadata"]["kind"] == "thin":
        io.dm.check_metadata(devices["metadata"]["path"])
    return devices
