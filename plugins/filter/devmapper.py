# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about a setup that several roles need: the one place each is spelled.

docker_dm_opts: Docker's devicemapper storage options for a pool (loop_lvm, direct_lvm,
storage_migration). lvm_dm_name: the device-mapper name LVM gives a thin pool (direct_lvm,
storage_migration). pool_activation_paths: the files the pool_activation role writes (that role's
tasks, and the fast path of loop_lvm and direct_lvm, which checks them); pool_activation_files:
those files with their contents and modes, as the managed_files module takes them.
pool_write_blocker: why a pool takes no writes, and what to set (the recover_full entry points of
loop_lvm and direct_lvm)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.lvm_pool import lvm_dm_name
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import human

POOL_CONFIG_DIR = "/etc/devmapper-storage/pools"
ACTIVATION_UNIT = "/etc/systemd/system/devmapper-pool@.service"
ACTIVATION_SCRIPT = "/usr/local/sbin/devmapper-pool-activate"
ENGINE_DROPIN = "10-devmapper-pool.conf"
MOUNTS_DROPIN = "10-mounts.conf"


def docker_dm_opts(pool, min_free_space):
    """The storage-opts of daemon.json for devicemapper on /dev/mapper/``pool``."""
    return ["dm.thinpooldev=/dev/mapper/%s" % pool,
            "dm.use_deferred_removal=true",
            "dm.use_deferred_deletion=true",
            "dm.min_free_space=%s" % min_free_space]


def pool_activation_paths(name, services):
    """{config, unit, script, mounts, dropins: {service: path}, files: every one of them, in that
    order} of the pool ``name`` and the engines ``services`` that require it. ``mounts`` is the
    pool's own drop-in: the mounts its files need (RequiresMountsFor=)."""
    paths = {
        "config": "%s/%s.conf" % (POOL_CONFIG_DIR, name),
        "unit": ACTIVATION_UNIT,
        "script": ACTIVATION_SCRIPT,
        "mounts": "/etc/systemd/system/devmapper-pool@%s.service.d/%s" % (name, MOUNTS_DROPIN),
        "dropins": dict((service, "/etc/systemd/system/%s.d/%s" % (service, ENGINE_DROPIN))
                        for service in services),
    }
    paths["files"] = [paths["config"], paths["unit"], paths["script"], paths["mounts"]] + \
        [paths["dropins"][service] for service in services]
    return paths


def pool_activation_files(paths, config, unit, script, mounts, dropin):
    """managed_files' ``files`` for the paths of ``pool_activation_paths``: the settings, the
    unit, the activation script (executable), the pool's mounts drop-in and each engine's drop-in
    (all the same)."""
    entries = [{"path": paths["config"], "content": config, "mode": "0644"},
               {"path": paths["unit"], "content": unit, "mode": "0644"},
               {"path": paths["script"], "content": script, "mode": "0755"},
               {"path": paths["mounts"], "content": mounts, "mode": "0644"}]
    return entries + [{"path": path, "content": dropin, "mode": "0644"}
                      for path in paths["files"][len(entries):]]


def pool_write_blocker(pool, data_option, metadata_option):
    """Why the pool (dm_thinpool_info's ``pool``) takes no writes, with what to do, naming the
    caller's options for the data and metadata sizes; "" when it takes writes."""
    name = pool.get("name")
    if not pool.get("exists") or not pool.get("active"):
        return ("pool %s is not active: bring it back first (playbooks/reactivate.yml)" % name)
    if pool.get("failed") or pool.get("needs_check"):
        return ("pool %s is %s: its metadata must be checked and repaired (thin_check, "
                "lvconvert --repair) before it takes writes again; growing it does not help"
                % (name, "failed" if pool.get("failed") else "flagged needs_check"))
    if pool.get("out_of_data_space"):
        return ("pool %s is still out of data space (%s of %s in use): give %s larger than %s"
                % (name, human(pool["data_used_bytes"]), human(pool["data_total_bytes"]),
                   data_option, human(pool["data_total_bytes"])))
    if pool.get("read_only") and "read_only" in (pool.get("features") or []):
        return ("pool %s was loaded read-only (the read_only feature of its table): load it "
                "again without it (playbooks/reactivate.yml)" % name)
    if pool.get("read_only") and (pool.get("metadata_used_percent") or 0) >= 99:
        return ("pool %s is read-only: its metadata is full (%s%%): give %s larger than %s"
                % (name, pool["metadata_used_percent"], metadata_option,
                   human(pool["metadata_total_bytes"])))
    if pool.get("read_only"):
        return ("pool %s is read-only after a metadata error: its metadata must be checked and "
                "repaired (thin_check, lvconvert --repair); growing it does not help" % name)
    return ""


class FilterModule(object):
    def filters(self):
        return {
            "docker_dm_opts": docker_dm_opts,
            "lvm_dm_name": lvm_dm_name,
            "pool_activation_paths": pool_activation_paths,
            "pool_activation_files": pool_activation_files,
            "pool_write_blocker": pool_write_blocker,
        }
