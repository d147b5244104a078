# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin pools, LVM-managed or raw device-mapper: what the dm_thinpool module reads and runs.

``ThinPoolIO`` reads the machine (through the host layer) and holds the runners of the LVM
actions; ``pool_handlers`` gives the module the read, the planner and the report of the pool's
backend. The planners, pure, are ``lvm_pool.plan_lvm_pool`` and ``dm_pool.plan_dm_pool``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os

from ansible_collections.devmapper.storage.plugins.module_utils.dm_pool import (
    dm_devices,
    dm_pool_info,
    plan_dm_pool,
    read_dm,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host.blkid import BlockDevices
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import DeviceMapper
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import (
    DEFAULT_CHUNK,
    check_inputs,
)
from ansible_collections.devmapper.storage.plugins.module_utils.lvm_pool import (
    lvm_pool_info,
    plan_lvm_pool,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError,
    ToolRunner,
    no_actions,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    SECTOR,
    human,
    parse_size,
    validate_block_sectors,
)

LV_FIELDS = ("lv_name,vg_name,lv_attr,lv_size,pool_lv,data_percent,metadata_percent,"
             "lv_metadata_size,chunk_size,seg_monitor,lv_profile,transaction_id,lv_active,zero,"
             "lv_dm_path")
VG_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count"
# The paths, sizes and names of dm_thinpool (module_utils/inputs.py); ``name`` is an LV name with
# backend=lvm and a device-mapper name with backend=dm. An LVM pool's data holds one chunk.
POOL_INPUTS = (("vg", "vg_name"), ("metadata_lv", "lv_name"),
               ("data_size", "lvm_data_size", "chunk_size"),
               ("metadata_size", "lvm_metadata_size"), ("chunk_size", "block_size"),
               ("data_device", "path"), ("metadata_device", "path"), ("block_size", "block_size"))


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

    def read_vg(self, vg):
        return self.lvm.read_vg(vg, VG_FIELDS)

    def read_lvs(self, vg):
        return self.lvm.lv_report(LV_FIELDS, [vg], all_lvs=True)[1]

    def read_lvm_pool(self, vg_name, name):
        vg = self.read_vg(vg_name)
        # LVM refuses to activate a pool without thin_check: the planner needs to know
        thin_check = self.dm.thin_check_installed()
        if vg is None:
            return {"vg": None, "pool": None, "thin_lvs": [], "lvs": [],
                    "thin_check_installed": thin_check}
        lvs = self.read_lvs(vg_name)
        pool = next((lv for lv in lvs if lv["lv_name"] == name), None)
        thin_lvs = [lv for lv in lvs if lv["pool_lv"] == name]
        status = table = None
        if pool is not None and pool["lv_active"] == "active" and pool["lv_attr"][:1] == "t":
            tpool = os.path.basename(pool["lv_dm_path"]) + "-tpool"
            dm_name = tpool if self.dm.exists(tpool) else os.path.basename(pool["lv_dm_path"])
            table, status = self.dm.thin_pool_table_and_status(dm_name)
        return {"vg": vg, "pool": pool, "thin_lvs": thin_lvs, "lvs": lvs, "status": status,
                "table": table, "thin_check_installed": thin_check}


# What each backend needs (the modules' required_if): an LVM pool's VG, a raw pool's dm name
BACKEND_REQUIRES = [("backend", "lvm", ["vg"]), ("backend", "dm", ["name"])]


def validate_params(params):
    """The options that go together by backend, checked before anything is read (beyond
    BACKEND_REQUIRES, which AnsibleModule checks); fills in the derived ``name`` (LVM) and
    ``block_sectors`` (dm)."""
    name_kind = "lv_name" if params["backend"] == "lvm" else "dm_name"
    check_inputs(dict(params, chunk_size=params["chunk_size"] or human(DEFAULT_CHUNK)),
                 (("name", name_kind),) + POOL_INPUTS)
    if params["backend"] == "lvm":
        params["name"] = params["name"] or "thinpool"
        for option in ("data_device", "metadata_device"):
            if params[option]:
                raise ModuleError("%s is for backend=dm; an LVM pool lives in vg" % option)
    elif params["metadata_lv"]:
        raise ModuleError("metadata_lv is for backend=lvm")
    else:
        if params["state"] in ("present", "active"):
            for option in ("data_device", "metadata_device"):
                if not params[option]:
                    raise ModuleError("%s is required with backend=dm and state=%s"
                                      % (option, params["state"]))
            if params["data_device"] == params["metadata_device"]:
                raise ModuleError("data_device and metadata_device must be different devices")
        if params["block_size"] is not None:        # None: a read-only run (read_only_pool)
            params["block_sectors"] = validate_block_sectors(
                parse_size(params["block_size"], "block_size") // SECTOR, "block_size")
        if params["low_water_mark"] is not None and params["low_water_mark"] < 0:
            raise ModuleError("low_water_mark: must not be negative, got %d"
                              % params["low_water_mark"])
    return params


def _plan_dm(io, params, current):
    # the devices are described (and a pool's old metadata checked) only when there is a
    # pool to make or bring back
    devices = dm_devices(io, params, current) if params["state"] in ("present", "active") \
        else None
    return plan_dm_pool(io, params, current, devices)


# The options dm_thinpool_info does not have: a read-only run makes, grows and removes nothing.
READ_ONLY = dict(state="info", data_size=None, metadata_size=None, chunk_size=None,
                 metadata_lv=None, zero=False, data_device=None, metadata_device=None,
                 block_size=None, low_water_mark=None, force=False)


def read_only_pool(io, options):
    """The pool named by ``options`` (backend, name, vg) as dm_thinpool reports it, read without
    a command that changes anything (no lock, no metadata snapshot)."""
    params = validate_params(dict(options, **READ_ONLY))
    read, dummy, info = pool_handlers(io, params)
    return info(read())


def pool_handlers(io, params):
    """(read, plan, info) of the pool's backend: ``read()`` reads the pool, ``plan(current)``
    returns its actions, ``info(current)`` is the pool as the module reports it. With
    ``state=info`` (read_only_pool's) the plan is empty."""
    if params["backend"] == "lvm":
        read = functools.partial(io.read_lvm_pool, params["vg"], params["name"])
        plan = functools.partial(plan_lvm_pool, io, params)
        info = functools.partial(lvm_pool_info, params=params)
    else:
        read = functools.partial(read_dm, io, params)
        plan = functools.partial(_plan_dm, io, params)
        info = functools.partial(dm_pool_info, name=params["name"])
    return read, (no_actions if params["state"] == "info" else plan), info
