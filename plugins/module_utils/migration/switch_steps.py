# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two steps that put Docker on the new storage while it is down, done here so that the
whole downtime is one module run (a remote task costs seconds of Python start on a slow host):

- ``switch``: the pool the role made while Docker ran (``staged_pool``, under a name that does
  not clash with the old pool's device) renamed to its own name (``lvrename``: the profile and
  dmeventd's monitoring stay with it), the files the role rendered (the pool's boot unit and
  settings, Docker's drop-in: ``switch_files``) written, those it no longer wants
  (``switch_remove``) removed, and ``daemon_settings`` merged into daemon.json;
- ``start``: Docker let go (the hold's flag file removed: no reload of systemd, which takes
  seconds on a slow host; ``verify`` removes the drop-ins and reloads) and started, and waited
  for until it reports the new driver and pool.

Every write is atomic and skipped when the file is already as wanted: a redone step changes
nothing. The files are the role's own rendering, so a later run of the storage roles finds them
as it would write them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils import daemon_config
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import storage_of
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import remove_durably
from ansible_collections.devmapper.storage.plugins.module_utils.lvm_pool import lvm_dm_name
from ansible_collections.devmapper.storage.plugins.module_utils.managed_files import (
    check_params as check_files, plan_files, read_files)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.plan import Do
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError


def wanted_storage(state):
    """{driver, pool} that Docker must report on the new storage."""
    if state.data["target"] == "overlay2":
        return {"driver": "overlay2", "pool": None}
    return {"driver": "devicemapper",
            "pool": lvm_dm_name(state.data["target_vg"], state.data["target_pool"])}


def rename_pool(host, vg, staged, pool):
    host.run_lvm("lvrename", [vg, staged, pool])


def plan_rename(host, state):
    vg, pool, staged = (state.data["target_vg"], state.data["target_pool"],
                        state.data.get("staged_pool"))
    # the active pools' device nodes first: an lvs call costs a fraction of a second while
    # Docker is down (LVM activates the VG at boot, so they are there after a power cut too)
    if host.dm_node_exists(lvm_dm_name(vg, pool)):
        return []
    lvs = [staged] if staged and host.dm_node_exists(lvm_dm_name(vg, staged)) else \
        host.lv_names(vg)
    if pool in lvs:
        return []
    if not staged or staged not in lvs:
        raise ModuleError("switch: neither %s/%s nor the pool made before the stop (%s/%s) is "
                          "there" % (vg, pool, vg, staged or "-"))
    return [Do("lvrename %s %s %s" % (vg, staged, pool),
               "the pool made while Docker ran takes its name, free now that the old pool is "
               "released (the profile and the monitoring go with it)",
               rename_pool, host, vg, staged, pool)]


def plan_switch(host, state, result):
    params = host.params
    actions = plan_rename(host, state) if state.data["target"] == "direct_lvm" else []
    wanted = check_files(params, "switch_files")
    actions += plan_files(host.module, wanted, read_files(wanted))
    actions += [Do("rm %s" % path, "Docker no longer uses it on %s" % state.data["target"],
                   remove_durably, path)
                for path in params["switch_remove"] or [] if os.path.lexists(path)]
    if params["daemon_settings"]:
        path = params["daemon_config_path"]
        actions += daemon_config.plan_config(
            host.module, path, params["daemon_settings"], 0o644, False,
            daemon_config.read_config(path))
    return actions


def start_and_wait(host, state, result):
    host.release_hold()
    info = host.start_docker_and_wait()
    found, wanted = storage_of(info or {}), wanted_storage(state)
    if found != wanted:
        raise ModuleError("start: Docker %s, not %s%s" % (
            "reports %s%s" % (found["driver"], " on pool %s" % found["pool"]
                              if found["pool"] else "") if found else "did not answer",
            wanted["driver"], " on pool %s" % wanted["pool"] if wanted["pool"] else ""))
    result["storage"] = found
    host.started_empty = True


def plan_start(host, state, result):
    wanted = wanted_storage(state)
    return [Do("rm %s; systemctl start docker.service; wait until docker info reports %s%s"
               % (host.hold_flag, wanted["driver"],
                  " on pool %s" % wanted["pool"] if wanted["pool"] else ""),
               "Docker back, on the new storage", start_and_wait, host, state, result)]
