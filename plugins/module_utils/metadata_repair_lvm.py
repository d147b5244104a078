# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dm_thinpool_repair for LVM pools: ``lvconvert --repair``, which repairs into the pool's spare
metadata LV and keeps the damaged metadata as the LV POOL_metaN.

The metadata of an inactive pool is read through LVM's read-only activation of its metadata
component (POOL_tmeta), deactivated again. lvconvert runs thin_repair itself, and thin_repair
1.1.0 drops intact devices (metadata_repair.py): before it, the plan repairs a copy into a sparse
file under /var/tmp with the host's thin_repair and compares the devices (KeptDevices), unless
``force``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.metadata_repair import (
    KeptDevices,
    SparseFile,
    damaged_ids,
    live_verdict,
    refuse_in_use,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    Step,
)

SCRATCH = "/var/tmp/dm_thinpool_repair-%s-%s.tmeta"


class RemoveFile(Step):
    def __init__(self, path, why):
        self.path = path
        self.why = why

    @property
    def command(self):
        return "rm %s" % self.path

    def apply(self):
        if os.path.exists(self.path):
            os.unlink(self.path)


def component(current):
    return "%s_tmeta" % current["name"]


def component_steps(io, current, why):
    """(activation, deactivation) of the pool's metadata component, read only; a failure
    between them deactivates it again (apply_plan's undo)."""
    activate = ["--activate", "y", "--yes", component(current)]
    up = Action(io.pools.lvchange, activate, why)
    down = Action(io.pools.lvchange, ["--activate", "n", component(current)],
                  "the metadata component goes down again before lvconvert")
    up.undo = down
    down.undoes = [activate]
    return up, down


def check_metadata(io, current):
    """(passes, what thin_check said) of an inactive pool's metadata."""
    up, down = component_steps(io, current, "")
    up.apply()
    try:
        return io.dm.check_metadata_file("/dev/" + component(current))
    finally:
        down.apply()


def read_lvm(io, params):
    """What the plan needs of an LVM pool: whether it is active, in use and sound."""
    check_inputs(params, (("vg", "vg_name"), ("name", "lv_name")))
    vg, name = params["vg"], params["name"]
    found = io.pools.read_lvm_pool(vg, name)
    pool = found["pool"]
    if pool is None or pool["lv_attr"][:1] != "t":
        raise ModuleError("name: %s/%s is not a thin pool%s" % (
            vg, name, "" if found["vg"] else " (no volume group %s)" % vg))
    tmeta = [lv for lv in found["lvs"] if lv["lv_name"] == "[%s_tmeta]" % name]
    # a pool whose thin LVs are active runs as VG-POOL-tpool even when the pool LV itself is
    # not active (lvs shows it inactive); a pool used directly (Docker) is VG-POOL
    dm_name = os.path.basename(pool["lv_dm_path"])
    live = next((target for target in (io.dm.read_thin_pool(n)
                                       for n in (dm_name + "-tpool", dm_name))
                 if target is not None), None)
    current = {"name": "%s/%s" % (vg, name), "vg": vg, "pool": name, "active": live is not None,
               "open_count": 0, "thin_devices": [],
               "metadata_bytes": int(tmeta[0]["lv_size"]) if tmeta else 0,
               "kept": sorted(lv["lv_name"] for lv in found["lvs"]
                              if lv["lv_name"].startswith(name + "_meta"))}
    if live is not None:
        current["open_count"] = io.dm.open_count(dm_name) if live["name"] == dm_name else 0
        current["thin_devices"] = sorted(io.dm.active_thins(live["devno"]))
        current["sound"], current["check_output"] = live_verdict(
            live["status"], live["table"].get("features", []))
    else:
        current["sound"], current["check_output"] = check_metadata(io, current)
    return current


def plan_lvm(io, current, force):
    """lvconvert --repair, after a deactivation of the pool when nothing uses it, and (without
    ``force``) after a trial repair of a copy that keeps every device thin_check did not name;
    none when the metadata is sound."""
    if current["sound"]:
        return []
    refuse_in_use(current)
    actions = []
    if current["active"]:
        actions.append(Action(io.pools.lvchange, ["--activate", "n", current["name"]],
                              "LVM repairs the metadata of an inactive pool only"))
    if not force:
        scratch = SCRATCH % (current["vg"], current["pool"])
        up, down = component_steps(io, current, "a trial repair reads the metadata")
        actions += [
            up,
            SparseFile(scratch, current["metadata_bytes"], "room for the trial repair"),
            io.dm.repair("/dev/" + component(current), scratch,
                         "the trial: what lvconvert's thin_repair will make of the metadata"),
            KeptDevices("/dev/" + component(current), scratch,
                        damaged_ids(current["check_output"]), False,
                        "a device thin_check did not name as damaged must survive the repair"),
            down,
            RemoveFile(scratch, "the trial's copy is not needed any more"),
        ]
    actions.append(Action(io.pools.lvconvert, ["--repair", "--yes", current["name"]],
                          "thin_repair into the spare metadata LV, which becomes the pool's; "
                          "the damaged metadata is kept as an LV of its own"))
    return actions
