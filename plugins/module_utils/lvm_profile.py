# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An LVM metadata profile that makes a thin pool autoextend, attached to the pool, and dmeventd
monitoring it (lvm_thinpool_profile).

``plan_profile`` is pure: it gets the pool's lvs row, the profile file as it is, and whether
dmeventd can monitor, and returns the actions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import read_text
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
    WriteFileAction,
)

PROFILE_DIR = "/etc/lvm/profile"
POOL_FIELDS = "lv_name,lv_attr,lv_profile,seg_monitor,lv_active"
# dmeventd's FIFO: present while dm-event.socket listens or dmeventd runs
DMEVENTD_FIFO = "/run/dmeventd-server"


def render_profile(threshold, percent):
    return ("# Written by devmapper.storage.lvm_thinpool_profile\n"
            "activation {\n"
            "\tthin_pool_autoextend_threshold=%d\n"
            "\tthin_pool_autoextend_percent=%d\n"
            "}\n" % (threshold, percent))


class ProfileIO(object):
    def __init__(self, module):
        self.module = module
        self.lvm = LvmReports(module)
        self.lvchange = ToolRunner(module, "lvchange")

    def read_pool(self, vg, pool):
        rc, rows, err = self.lvm.lv_report(POOL_FIELDS, ["%s/%s" % (vg, pool)], check=False)
        if rc != 0:
            raise ModuleError("pool: %s/%s not found: %s" % (vg, pool, err.strip()))
        row = rows[0]
        if row["lv_attr"][:1] != "t":
            raise ModuleError("pool: %s/%s is not a thin pool" % (vg, pool))
        return row

    def dmeventd_available(self):
        """LVM starts dmeventd itself when its binary is there; otherwise only a running one
        (listening on its FIFO) can monitor."""
        return os.path.exists(DMEVENTD_FIFO) or self.module.get_bin_path("dmeventd") is not None


def plan_profile(io, params, pool_row, file_content, dmeventd_available):
    """Pure: the steps from what is to what is asked."""
    vg_lv = "%s/%s" % (params["vg"], params["pool"])
    actions = []
    if params["state"] == "absent":
        if pool_row["lv_profile"]:
            actions.append(Action(io.lvchange, ["--detachprofile", vg_lv],
                                  "detach profile %s" % pool_row["lv_profile"]))
        return actions
    want = render_profile(params["threshold"], params["percent"])
    if file_content != want:
        actions.append(WriteFileAction(io.module, params["profile_path"], want,
                                       "autoextend at %d%% by %d%%%s" % (
                                           params["threshold"], params["percent"],
                                           " (threshold 100: autoextend disabled)"
                                           if params["threshold"] == 100 else "")))
    if pool_row["lv_profile"] != params["profile"]:
        actions.append(Action(io.lvchange, ["--metadataprofile", params["profile"], vg_lv],
                              "attach profile %s" % params["profile"]))
    if params["monitor"] and pool_row["seg_monitor"] != "monitored":
        if pool_row["lv_active"] != "active":
            raise ModuleError("%s is not active; activate it (dm_thinpool state=active) before "
                              "enabling monitoring" % vg_lv)
        if not dmeventd_available:
            raise ModuleError(
                "dmeventd is neither running nor installed, so LVM cannot monitor %s and "
                "autoextend would never happen. Install it (package dmeventd on Debian/Ubuntu, "
                "part of lvm2 on RHEL) and start it: systemctl enable --now dm-event.socket; then "
                "re-run" % vg_lv)
        actions.append(Action(io.lvchange, ["--monitor", "y", vg_lv],
                              "have dmeventd monitor the pool so that autoextend happens"))
    return actions


PROFILE_INPUTS = (("vg", "vg_name"), ("pool", "lv_name"), ("profile", "file_name"))


def validate_params(params):
    """Checks the options and fills in the derived ``profile`` and ``profile_path``."""
    check_inputs(params, PROFILE_INPUTS)
    if not 50 <= params["threshold"] <= 100:
        raise ModuleError("threshold must be from 50 to 100 (100 disables autoextend), got %d"
                          % params["threshold"])
    if not 0 <= params["percent"] <= 100:
        raise ModuleError("percent must be from 0 to 100, got %d" % params["percent"])
    params["profile"] = params["profile"] or "%s-%s" % (params["vg"], params["pool"])
    params["profile_path"] = os.path.join(PROFILE_DIR, params["profile"] + ".profile")
    return params


def read_profile_state(io, params):
    """{pool, file, dmeventd}: the pool's lvs row, the profile file's content (None when there is
    none), and whether dmeventd can monitor."""
    return {"pool": io.read_pool(params["vg"], params["pool"]),
            "file": read_text(params["profile_path"]),
            "dmeventd": io.dmeventd_available()}


def plan_read_profile(io, params, current):
    """``plan_profile`` on what ``read_profile_state`` read."""
    return plan_profile(io, params, current["pool"], current["file"], current["dmeventd"])


def check_monitored(params, after, actions):
    """After the plan ran: monitoring asked for is on, or the run fails saying so."""
    if params["state"] == "present" and params["monitor"] and \
            after["pool"]["seg_monitor"] != "monitored":
        raise ModuleError("lvchange --monitor y ran, but lvs reports seg_monitor=%r for "
                          "%s/%s: check dmeventd (journalctl -u dm-event)"
                          % (after["pool"]["seg_monitor"], params["vg"], params["pool"]),
                          actions_done=[a.to_dict() for a in actions])


def profile_report(params, after):
    return dict(profile_path=params["profile_path"],
                autoextend=params["threshold"] < 100 and params["percent"] > 0,
                monitored=after["pool"]["seg_monitor"] == "monitored",
                attached_profile=after["pool"]["lv_profile"] or None)


def profile_diff(params, before, after):
    """The profile file's text diff, then the pool's profile and monitoring."""
    return [
        {"before_header": params["profile_path"], "after_header": params["profile_path"],
         "before": before["file"] or "", "after": after["file"] or ""},
        {"before": {"profile": before["pool"]["lv_profile"],
                    "seg_monitor": before["pool"]["seg_monitor"]},
         "after": {"profile": after["pool"]["lv_profile"],
                   "seg_monitor": after["pool"]["seg_monitor"]}},
    ]
