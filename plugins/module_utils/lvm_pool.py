# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LVM thin pools: the plan from what LVM reports to what is asked (runbook order: two LVs, then
lvconvert to a pool), and the pool as the module reports it.

``plan_lvm_pool`` is pure: it gets what ``ThinPoolIO.read_lvm_pool`` read (including whether
thin_check is installed) and returns actions or raises ``ModuleError``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    lvm_float,
    lvm_int,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    SECTOR,
    human,
    parse_percent,
    parse_size,
    round_up,
)


def lvm_dm_name(vg, lv):
    """LVM names an LV's device VG-LV, with each hyphen inside either name doubled."""
    return "%s-%s" % (str(vg).replace("-", "--"), str(lv).replace("-", "--"))


def lvm_extents_for(value, vg, what, existing=False):
    """Extents a size means: absolute sizes round up to whole extents, percentages as lvcreate
    reads them. Returns None for %FREE on an existing LV: free space shrinks as the pool takes it,
    so it only sizes a new LV (re-runs stay idempotent)."""
    percent = parse_percent(value, what)
    if percent is None:
        return round_up(parse_size(value, what), vg["extent_size"]) // vg["extent_size"]
    pct, base = percent
    if base == "FREE":
        return None if existing else int(vg["free_count"] * pct // 100)
    return int(vg["extent_count"] * pct // 100)


def _vg_lv(params):
    return "%s/%s" % (params["vg"], params["name"])


def pool_in_use(pool):
    """What shows a pool has been used (``lvs``: a transaction id above 0, data in use), as
    words; None for a pool as lvcreate made it."""
    signs = []
    transaction = str(pool.get("transaction_id") or "").strip()
    if transaction.isdigit() and int(transaction) > 0:
        signs.append("transaction id %s" % transaction)
    try:
        data = float(str(pool.get("data_percent") or "0").strip() or "0")
    except ValueError:
        data = 0.0
    if data > 0:
        signs.append("%.2f%% of its data in use" % data)
    return " and ".join(signs) or None


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
        used = pool_in_use(pool)
        if used and not params["force"]:
            # Docker's devicemapper driver makes its thin devices with pool messages: they are
            # no LVs, and lvremove destroys them without a word
            raise ModuleError(
                "%s has %s, though it holds no thin volumes LVM knows: thin devices made by "
                "another program (Docker's devicemapper driver) may be in it, and removing the "
                "pool destroys them. Set force=true to remove it" % (_vg_lv(params), used))
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
        return _lvm_activate(io, params, pool, current)
    # present
    if pool is None:
        return _lvm_create(io, params, vg)
    return _lvm_grow(io, params, vg, pool) + _lvm_activate(io, params, pool, current)


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


def _lvm_activate(io, params, pool, current):
    if pool["lv_active"] == "active":
        return []
    if not current["thin_check_installed"]:
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
    steps = [
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
    # a failed convert leaves no half-made LVs behind to block the corrected run
    for step, lv in ((steps[0], params["name"]), (steps[1], meta_name)):
        step.undo = Action(io.lvremove, ["--yes", "%s/%s" % (params["vg"], lv)],
                           "remove %s/%s, made by the failed plan" % (params["vg"], lv))
    steps[2].undoes = [steps[0].args, steps[1].args]
    return steps


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
    used = pool_in_use(pool)
    if not current["thin_lvs"] and used:
        # Docker's devicemapper driver makes its thin devices with pool messages, not as LVs:
        # lvs lists none of them, and 0 would say the pool is empty
        base["thin_device_count"] = None
        base["thin_device_count_why"] = (
            "not counted: the pool has %s but no thin volumes LVM knows, so its thin devices "
            "were made by another program (Docker's devicemapper driver); listing them takes a "
            "metadata snapshot, which a read-only run does not take" % used)
    if current.get("status") is not None:
        table = current["table"]
        base.update(current["status"].to_dict())
        base["block_size"] = table["block_sectors"] * SECTOR
        base["low_water_mark"] = table["low_water_mark"]
        base["features"] = table["features"]
    return base
