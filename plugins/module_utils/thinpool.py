# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin pools, LVM-managed or raw device-mapper: what exists, and the plan to reach what is asked.

``ThinPoolIO`` reads the machine; ``plan_lvm_pool`` and ``plan_dm_pool`` are pure (given what was
read, they return actions or raise ``ModuleError``), so every decision is unit-testable.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import struct

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    lvm_float,
    lvm_int,
    parse_thin_pool_table,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host.blkid import BlockDevices
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import DeviceMapper
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    SECTOR,
    human,
    parse_percent,
    parse_size,
    round_down,
    round_up,
)

THIN_SUPERBLOCK_MAGIC = 27022010
# dm-thin cannot use more metadata than this; a larger metadata device is not an error, but its
# excess must not look like room to grow into on every run.
MAX_METADATA_BYTES = 255 * (1 << 14) * 8 * SECTOR
LV_FIELDS = ("lv_name,vg_name,lv_attr,lv_size,pool_lv,data_percent,metadata_percent,"
             "lv_metadata_size,chunk_size,seg_monitor,lv_profile,transaction_id,lv_active,zero,"
             "lv_dm_path")
VG_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count"


class ThinPoolIO(object):
    """What the pool planners read and the runners of their actions: device-mapper and LVM reads
    come from the host layer (module_utils/host), which builds those command lines."""

    def __init__(self, module):
        self.module = module
        self.dm = DeviceMapper(module)
        self.lvm = LvmReports(module)
        self.block = BlockDevices(module)
        self.lvcreate = ToolRunner(module, "lvcreate")
        self.lvconvert = ToolRunner(module, "lvconvert")
        self.lvextend = ToolRunner(module, "lvextend")
        self.lvchange = ToolRunner(module, "lvchange")
        self.lvremove = ToolRunner(module, "lvremove")
        self.dd = ToolRunner(module, "dd")

    def has_tool(self, name):
        return self.module.get_bin_path(name) is not None

    def read_vg(self, vg):
        return self.lvm.read_vg(vg, VG_FIELDS)

    def read_lvs(self, vg):
        return self.lvm.lv_report(LV_FIELDS, [vg], all_lvs=True)[1]

    def read_lvm_pool(self, vg_name, name):
        vg = self.read_vg(vg_name)
        if vg is None:
            return {"vg": None, "pool": None, "thin_lvs": [], "lvs": []}
        lvs = self.read_lvs(vg_name)
        pool = next((lv for lv in lvs if lv["lv_name"] == name), None)
        thin_lvs = [lv for lv in lvs if lv["pool_lv"] == name]
        status = table = None
        if pool is not None and pool["lv_active"] == "active" and pool["lv_attr"][:1] == "t":
            tpool = os.path.basename(pool["lv_dm_path"]) + "-tpool"
            dm_name = tpool if self.dm.exists(tpool) else os.path.basename(pool["lv_dm_path"])
            table, status = self.dm.thin_pool_table_and_status(dm_name)
        return {"vg": vg, "pool": pool, "thin_lvs": thin_lvs, "lvs": lvs, "status": status,
                "table": table}


# ---- pure helpers ------------------------------------------------------------------------------
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
    """'empty' (all zeros: the kernel formats it), 'thin' (a thin-pool superblock) or 'other'."""
    with open(path, "rb") as handle:
        block = handle.read(4096)
    if not block.strip(b"\0"):
        return "empty"
    if len(block) >= 40 and struct.unpack_from("<Q", block, 32)[0] == THIN_SUPERBLOCK_MAGIC:
        return "thin"
    return "other"


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


def lvm_extents_for(value, vg, what, existing=False):
    """Extents a size means: absolute sizes round up to whole extents, percentages as lvcreate
    reads them. Returns None for %FREE on an existing LV: free space shrinks as the pool takes it,
    so it only sizes a new LV (re-runs stay idempotent)."""
    percent = parse_percent(value)
    if percent is None:
        return round_up(parse_size(value, what), vg["extent_size"]) // vg["extent_size"]
    pct, base = percent
    if base == "FREE":
        return None if existing else int(vg["free_count"] * pct // 100)
    return int(vg["extent_count"] * pct // 100)


def _vg_lv(params):
    return "%s/%s" % (params["vg"], params["name"])


def plan_lvm_pool(io, params, current):
    """Actions for an LVM thin pool (runbook order: two LVs, then lvconvert to a pool)."""
    state = params["state"]
    vg, pool = current["vg"], current["pool"]
    if vg is None:
        if state in ("absent", "inactive"):
            return []
        raise ModuleError("vg: volume group %s does not exist; create it first (pvcreate, vgcreate)"
                          % params["vg"])
    if params.get("metadata_lv") and state == "present" and \
            (pool is None or pool["lv_attr"][:1] != "t"):
        return _lvm_convert(io, params, current)
    if pool is not None and pool["lv_attr"][:1] != "t":
        raise ModuleError("name: %s exists and is not a thin pool (lv_attr %s); to turn it and a "
                          "metadata LV into a pool, give metadata_lv" % (_vg_lv(params),
                                                                         pool["lv_attr"]))
    if state == "absent":
        if pool is None:
            return []
        if current["thin_lvs"] and not params["force"]:
            raise ModuleError(
                "%s holds thin volumes (%s); removing the pool destroys them. Set force=true to "
                "remove it with them" % (_vg_lv(params),
                                         ", ".join(lv["lv_name"] for lv in current["thin_lvs"])))
        return [Action(io.lvremove, ["--yes", _vg_lv(params)],
                       "remove the thin pool%s" % (" and its thin volumes"
                                                   if current["thin_lvs"] else ""))]
    if state == "inactive":
        if pool is None or pool["lv_active"] != "active":
            return []
        active = [lv["lv_name"] for lv in current["thin_lvs"] if lv["lv_active"] == "active"]
        if active:
            raise ModuleError("%s cannot be deactivated while its thin volumes %s are active; "
                              "deactivate them first (or the whole VG: vgchange -an %s)"
                              % (_vg_lv(params), ", ".join(active), params["vg"]))
        return [Action(io.lvchange, ["--activate", "n", _vg_lv(params)], "deactivate the pool")]
    if state == "active":
        if pool is None:
            raise ModuleError("name: thin pool %s does not exist; use state=present to create it"
                              % _vg_lv(params))
        return _lvm_activate(io, params, pool)
    # present
    if pool is None:
        return _lvm_create(io, params, vg)
    return _lvm_grow(io, params, vg, pool) + _lvm_activate(io, params, pool)


def _lvm_convert(io, params, current):
    """Existing data and metadata LVs into a pool, as the runbook's lvconvert step does."""
    lvs = dict((lv["lv_name"], lv) for lv in current["lvs"])
    for role, lv_name in (("name", params["name"]), ("metadata_lv", params["metadata_lv"])):
        lv = lvs.get(lv_name)
        if lv is None:
            raise ModuleError("%s: %s/%s does not exist to convert into a thin pool"
                              % (role, params["vg"], lv_name))
        if lv["lv_attr"][:1] != "-":
            raise ModuleError("%s: %s/%s is not a plain LV (lv_attr %s)"
                              % (role, params["vg"], lv_name, lv["lv_attr"]))
    if params["metadata_lv"] == params["name"]:
        raise ModuleError("metadata_lv must differ from name")
    if not params["force"]:
        raise ModuleError(
            "converting %s and %s/%s into a thin pool wipes the metadata LV and gives up the data "
            "LV's content; set force=true to convert them" % (_vg_lv(params), params["vg"],
                                                              params["metadata_lv"]))
    chunk = parse_size(params["chunk_size"] or "512K", "chunk_size")
    return [Action(io.lvconvert, ["--yes", "--zero", "y" if params["zero"] else "n",
                                  "--chunksize", "%db" % chunk, "--thinpool", _vg_lv(params),
                                  "--poolmetadata", "%s/%s" % (params["vg"], params["metadata_lv"])],
                   "convert the existing LVs into a thin pool with %s chunks" % human(chunk))]


def _lvm_activate(io, params, pool):
    if pool["lv_active"] == "active":
        return []
    if not io.has_tool("thin_check"):
        raise ModuleError(
            "thin_check is not installed, and LVM refuses to activate a thin pool without it "
            "(moby#34343, docker/docs#6942): install thin-provisioning-tools (Debian, SUSE) or "
            "device-mapper-persistent-data (RHEL family), then re-run")
    return [Action(io.lvchange, ["--activate", "y", _vg_lv(params)],
                   "activate the pool (LVM runs thin_check on its metadata first)")]


DEFAULT_DATA_SIZE = "95%VG"       # Docker's runbook
DEFAULT_METADATA_SIZE = "1%VG"


def _lvm_create(io, params, vg):
    data = lvm_extents_for(params["data_size"] or DEFAULT_DATA_SIZE, vg, "data_size")
    meta = lvm_extents_for(params["metadata_size"] or DEFAULT_METADATA_SIZE, vg, "metadata_size")
    if data < 1 or meta < 1:
        raise ModuleError("data_size and metadata_size must each come to at least one extent (%s)"
                          % human(vg["extent_size"]))
    # lvconvert also makes a spare metadata LV (pmspare) of the metadata size
    need = data + 2 * meta
    if need > vg["free_count"]:
        raise ModuleError(
            "data_size: the pool needs %d extents (data %d + metadata %d + spare metadata %d) but "
            "%s has %d free" % (need, data, meta, meta, params["vg"], vg["free_count"]))
    chunk = parse_size(params["chunk_size"] or "512K", "chunk_size")
    meta_name = params["name"] + "meta"
    return [
        Action(io.lvcreate, ["--yes", "--wipesignatures", "y", "--name", params["name"],
                             "--extents", str(data), params["vg"]],
               "create the data LV (%s)" % human(data * vg["extent_size"])),
        Action(io.lvcreate, ["--yes", "--wipesignatures", "y", "--name", meta_name,
                             "--extents", str(meta), params["vg"]],
               "create the metadata LV (%s)" % human(meta * vg["extent_size"])),
        Action(io.lvconvert, ["--yes", "--zero", "y" if params["zero"] else "n",
                              "--chunksize", "%db" % chunk, "--thinpool", _vg_lv(params),
                              "--poolmetadata", "%s/%s" % (params["vg"], meta_name)],
               "convert them into a thin pool with %s chunks" % human(chunk)),
    ]


def _lvm_grow(io, params, vg, pool):
    actions = []
    extent = vg["extent_size"]
    have = lvm_int(pool["lv_size"]) // extent
    want = None
    if params["data_size"] is not None:
        want = lvm_extents_for(params["data_size"], vg, "data_size", existing=True)
    if want is not None and want < have:
        if parse_percent(params["data_size"]) is None:
            raise ModuleError("data_size: refusing to shrink %s from %s to %s: thin pools cannot "
                              "shrink" % (_vg_lv(params), human(have * extent),
                                          human(want * extent)))
        want = None     # a percentage of a VG that shrank: leave the pool as it is
    if want is not None and want > have:
        if want - have > vg["free_count"]:
            raise ModuleError("data_size: growing %s to %s needs %d more extents; %s has %d free"
                              % (_vg_lv(params), human(want * extent), want - have,
                                 params["vg"], vg["free_count"]))
        actions.append(Action(io.lvextend, ["--extents", str(want), _vg_lv(params)],
                              "grow the pool's data from %s to %s"
                              % (human(have * extent), human(want * extent))))
    if params["metadata_size"] is not None:
        meta_have = lvm_int(pool["lv_metadata_size"])
        meta_want = lvm_extents_for(params["metadata_size"], vg, "metadata_size", existing=True)
        if meta_want is not None and meta_want * extent > meta_have:
            actions.append(Action(io.lvextend, ["--poolmetadatasize", "%db" % (meta_want * extent),
                                                _vg_lv(params)],
                                  "grow the pool's metadata from %s to %s"
                                  % (human(meta_have), human(meta_want * extent))))
    if params["chunk_size"] is not None:
        chunk = parse_size(params["chunk_size"], "chunk_size")
        if chunk != lvm_int(pool["chunk_size"]):
            raise ModuleError("chunk_size: %s has %s chunks; a pool's chunk size cannot change "
                              "after creation" % (_vg_lv(params), human(lvm_int(pool["chunk_size"]))))
    zeroing = pool["zero"] == "zero"
    if bool(params["zero"]) != zeroing:
        actions.append(Action(io.lvchange, ["--zero", "y" if params["zero"] else "n",
                                            _vg_lv(params)],
                              "turn block zeroing %s" % ("on" if params["zero"] else "off")))
    return actions


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
        if state == "absent" and current["thin_ids"] != [] and not params["force"]:
            detail = ("holds thin devices %s" % current["thin_ids"]) if current["thin_ids"] \
                else "may hold thin devices (thin_ls is not installed to tell)"
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
            raise ModuleError("data_device: %s carries a %s signature; a new pool would overwrite "
                              "it. Set force=true to use it anyway"
                              % (data["path"], data["signature"]))
        if state == "active" and meta["kind"] != "thin":
            raise ModuleError("metadata_device: %s holds no thin-pool metadata; state=active only "
                              "brings back an existing pool (use state=present to create one)"
                              % meta["path"])
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


def describe_device(path, role):
    if not os.path.exists(path):
        raise ModuleError("%s: %s does not exist" % (role, path))
    return {"path": path, "devno": device_numbers(path), "size": device_size(path)}


def blkid_signature(io, path):
    found = io.block.probe(path)
    return found.get("TYPE") or found.get("PTTYPE")


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


def lvm_pool_info(current, params):
    pool = current["pool"]
    base = {"name": params["name"], "vg": params["vg"], "backend": "lvm"}
    if pool is None:
        base.update(exists=False, active=False)
        return base
    base.update({
        "exists": True, "active": pool["lv_active"] == "active",
        "device": pool["lv_dm_path"], "size": lvm_int(pool["lv_size"]),
        "metadata_size": lvm_int(pool["lv_metadata_size"]),
        "chunk_size": lvm_int(pool["chunk_size"]), "zero": pool["zero"] == "zero",
        "profile": pool["lv_profile"] or None, "monitored": pool["seg_monitor"] == "monitored",
        "seg_monitor": pool["seg_monitor"] or None,
        "lvm_data_percent": lvm_float(pool["data_percent"]),
        "lvm_metadata_percent": lvm_float(pool["metadata_percent"]),
        "thin_device_count": len(current["thin_lvs"]),
        "thin_volumes": sorted(lv["lv_name"] for lv in current["thin_lvs"]),
    })
    if current.get("status") is not None:
        table = current["table"]
        base.update(current["status"].to_dict())
        base["block_size"] = table["block_sectors"] * SECTOR
        base["low_water_mark"] = table["low_water_mark"]
        base["features"] = table["features"]
    return base
