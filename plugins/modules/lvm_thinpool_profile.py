#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lvm_thinpool_profile
short_description: Autoextend profile and dmeventd monitoring for an LVM thin pool
version_added: 0.1.0
description:
  - Writes an LVM metadata profile with C(thin_pool_autoextend_threshold) and
    C(thin_pool_autoextend_percent), attaches it to the pool, enables monitoring
    (C(lvchange --monitor y)) and checks that C(lvs -o seg_monitor) reads C(monitored).
  - Without monitoring, autoextend silently never happens; this module fails rather than leave
    a pool unmonitored, and says how to start dmeventd when it is not running.
  - O(state=absent) detaches the profile from the pool (the profile file stays for other pools).
author:
  - devmapper.storage maintainers (@devmapper)
attributes:
  check_mode:
    support: full
    description: Reports the steps it would take in RV(actions), and takes none.
  diff_mode:
    support: full
    description: Shows the profile file's content and the pool's profile and monitoring before and after.
options:
  vg:
    description: Volume group of the pool.
    type: str
    required: true
  pool:
    description: The thin pool LV.
    type: str
    default: thinpool
  profile:
    description:
      - Profile name; the file is C(/etc/lvm/profile/NAME.profile).
      - Defaults to C(VG-POOL), which for Docker's runbook is V(docker-thinpool).
    type: str
  threshold:
    description:
      - Data usage in percent at which LVM extends the pool, 50 to 100. V(100) disables autoextend
        (RV(autoextend) is then false).
    type: int
    default: 80
  percent:
    description: By how much, in percent of its size, LVM extends the pool each time (0 to 100).
    type: int
    default: 20
  monitor:
    description: Enable dmeventd monitoring of the pool and check that it is on.
    type: bool
    default: true
  state:
    description: V(present) writes, attaches and monitors; V(absent) detaches the profile.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: Autoextend at 80 % by 20 %, as Docker's runbook sets it
  devmapper.storage.lvm_thinpool_profile:
    vg: docker
    pool: thinpool

- name: Detach the profile
  devmapper.storage.lvm_thinpool_profile:
    vg: docker
    pool: thinpool
    state: absent
"""

RETURN = r"""
profile_path:
  description: The profile file.
  returned: always
  type: str
  sample: /etc/lvm/profile/docker-thinpool.profile
autoextend:
  description: Whether the profile lets LVM extend the pool (threshold below 100).
  returned: always
  type: bool
  sample: true
monitored:
  description: Whether dmeventd monitors the pool after the run (before it, in check mode).
  returned: always
  type: bool
  sample: true
attached_profile:
  description: The profile attached to the pool after the run (before it, in check mode).
  returned: always
  type: str
  sample: docker-thinpool
actions:
  description: The steps taken (or, in check mode, that would be taken), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "write /etc/lvm/profile/docker-thinpool.profile",
            "why": "autoextend at 80% by 20%"}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import read_text
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
    WriteFileAction,
    apply_plan,
    exit_module,
)

PROFILE_DIR = "/etc/lvm/profile"
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
        rc, rows, err = self.lvm.lv_report("lv_name,lv_attr,lv_profile,seg_monitor,lv_active",
                                     ["%s/%s" % (vg, pool)], check=False)
        if rc != 0:
            raise ModuleError("pool: %s/%s not found: %s" % (vg, pool, err.strip()))
        row = rows[0]
        if row["lv_attr"][:1] != "t":
            raise ModuleError("pool: %s/%s is not a thin pool" % (vg, pool))
        return row

    @staticmethod
    def read_file(path):
        return read_text(path)

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


def validate(params):
    if not 50 <= params["threshold"] <= 100:
        raise ModuleError("threshold must be from 50 to 100 (100 disables autoextend), got %d"
                          % params["threshold"])
    if not 0 <= params["percent"] <= 100:
        raise ModuleError("percent must be from 0 to 100, got %d" % params["percent"])
    params["profile"] = params["profile"] or "%s-%s" % (params["vg"], params["pool"])
    if "/" in params["profile"] or params["profile"].startswith("."):
        raise ModuleError("profile must be a plain name, got %r" % params["profile"])
    params["profile_path"] = os.path.join(PROFILE_DIR, params["profile"] + ".profile")


def run_module(module):
    params = dict(module.params)
    validate(params)
    io = ProfileIO(module)
    pool_before = io.read_pool(params["vg"], params["pool"])
    file_before = io.read_file(params["profile_path"])
    actions = plan_profile(io, params, pool_before, file_before, io.dmeventd_available())
    pool_after, file_after = pool_before, file_before
    if actions and not module.check_mode:
        apply_plan(actions)
        pool_after = io.read_pool(params["vg"], params["pool"])
        file_after = io.read_file(params["profile_path"])
        if params["state"] == "present" and params["monitor"] and \
                pool_after["seg_monitor"] != "monitored":
            raise ModuleError("lvchange --monitor y ran, but lvs reports seg_monitor=%r for "
                              "%s/%s: check dmeventd (journalctl -u dm-event)"
                              % (pool_after["seg_monitor"], params["vg"], params["pool"]),
                              actions_done=[a.to_dict() for a in actions])
    result = dict(changed=bool(actions), actions=[a.to_dict() for a in actions],
                  profile_path=params["profile_path"],
                  autoextend=params["threshold"] < 100 and params["percent"] > 0,
                  monitored=pool_after["seg_monitor"] == "monitored",
                  attached_profile=pool_after["lv_profile"] or None)
    if module._diff:
        result["diff"] = [
            {"before_header": params["profile_path"], "after_header": params["profile_path"],
             "before": file_before or "", "after": file_after or ""},
            {"before": {"profile": pool_before["lv_profile"],
                        "seg_monitor": pool_before["seg_monitor"]},
             "after": {"profile": pool_after["lv_profile"],
                       "seg_monitor": pool_after["seg_monitor"]}},
        ]
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vg=dict(type="str", required=True),
            pool=dict(type="str", default="thinpool"),
            profile=dict(type="str"),
            threshold=dict(type="int", default=80),
            percent=dict(type="int", default=20),
            monitor=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
