# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Putting the host back as it was before the migration, Docker on its old storage.

Files first (configuration, the volumes, Docker's directory), then what the migration made in LVM
(only that: the pool LV it made, or the VG when it made the VG), then the old pool and Docker.
Each part finds what is left to do, so a rollback that was cut short is simply run again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import time

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    fsync_path, remove_path, tree_checksums)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.container_steps import (
    containers_file, stop_running)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.inventory import (
    compare_files, compare_images)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.state import (
    PHASE_COMPLETE, PHASE_ROLLED_BACK)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.steps import (
    MANIFEST_HASH_LIMIT, VOLUMES, refuse_mounts)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

POOL_UNIT = "devmapper-pool@%s.service"
POOL_CONF = "/etc/devmapper-storage/pools/%s.conf"


def restore_config(host, state):
    for path, copy in sorted(state.data["config_paths"].items()):
        if copy is None:
            remove_path(path)
            continue
        if os.path.isdir(copy):
            remove_path(path)
            shutil.copytree(copy, path, symlinks=True)
        else:
            parent = os.path.dirname(path)
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o755)
            tmp = "%s.rollback.%d" % (path, os.getpid())
            shutil.copy2(copy, tmp)
            os.rename(tmp, path)
    host.did("put back %s" % ", ".join(sorted(state.data["config_paths"])),
             "the configuration files as they were before the migration")


def aside_name(root):
    return "%s.migration-failed.%d" % (root, int(time.time()))


def put_docker_root_back(host, state):
    """Docker's directory (and its volumes, carried or kept in place) as before; how many files
    of the backup's manifest were compared, or None when there was nothing to put back."""
    root, backup = host.docker_root, host.docker_backup
    volumes = os.path.join(root, VOLUMES)
    if state.data["backup_mode"] == "move":
        if not os.path.exists(backup):
            return None
        if os.path.isdir(volumes) and not os.path.exists(os.path.join(backup, VOLUMES)):
            os.rename(volumes, os.path.join(backup, VOLUMES))
            host.did("mv %s %s" % (volumes, os.path.join(backup, VOLUMES)),
                     "the volumes, with anything written since, back into the backup")
        if os.path.exists(root):
            aside = aside_name(root)
            os.rename(root, aside)
            host.did("mv %s %s" % (root, aside), "what the new storage made, kept aside")
        os.rename(backup, root)
        fsync_path(os.path.dirname(root))
        host.did("mv %s %s" % (backup, root), "Docker's directory back in place")
    else:
        if not state.archive_sha256 or not os.path.exists(host.docker_archive):
            return None
        # Docker's directory may be a mount point (why archive mode exists): what the new
        # storage made is kept aside inside it; the volumes never left
        aside = os.path.join(root, os.path.basename(aside_name(root)))
        for name in os.listdir(root):
            if name != VOLUMES and not name.startswith(os.path.basename(root) + ".migration-failed"):
                if not os.path.isdir(aside):
                    os.mkdir(aside, 0o700)
                os.rename(os.path.join(root, name), os.path.join(aside, name))
        host.tar_extract(host.docker_archive, root, exclude=(VOLUMES,))
        host.did("tar --extract --file %s --directory %s" % (host.docker_archive, root),
                 "Docker's directory back from its archive (its volumes never left)")
    manifest = host.read_json(host.backup_manifest)
    if manifest is None:
        return None
    now = tree_checksums(root, MANIFEST_HASH_LIMIT, skip=(VOLUMES,))
    now = dict((k, v) for k, v in now.items() if ".migration-failed." not in k.split("/")[0])
    problems = compare_files(root, manifest, now)
    if problems:
        raise ModuleError("rollback: %s differs from its backup manifest: %s"
                          % (root, "; ".join(problems[:10])))
    return len(manifest)


def remove_what_was_made(host, state):
    """The VG when the migration made it; otherwise only the pool LV it made. A VG that holds
    other LVs, open or not, is never deactivated whole."""
    vg, pool = state.data.get("target_vg"), state.data.get("target_pool")
    if state.data["target"] != "direct_lvm" or not vg or not host.vg_exists(vg):
        return
    if state.data.get("created_vg"):
        pvs = host.lvm.pv_names(vg)
        host.run_lvm("vgchange", ["--activate", "n", vg])
        host.run_lvm("vgremove", ["--force", vg])
        for pv in pvs:
            host.run_lvm("pvremove", ["--yes", pv], check=False)
        host.did("vgremove --force %s; pvremove %s" % (vg, " ".join(pvs)),
                 "the volume group the migration made")
        return
    made = [lv for lv in host.lv_names(vg) if lv not in (state.data.get("lvs_before") or [])]
    # the pool under the name it was made with while Docker ran, or under its own after switch
    for name in (pool, state.data.get("staged_pool")):
        if name and name in made:
            host.run_lvm("lvremove", ["--yes", "%s/%s" % (vg, name)])
            host.did("lvremove --yes %s/%s" % (vg, name),
                     "the pool the migration made in %s, which held other LVs before" % vg)


def start_containers_that_ran(host, state):
    # one started with --rm is gone once it stopped: nothing to start
    present = dict((c["name"], c["running"]) for c in host.containers())
    for name in state.running_before_stop:
        if present.get(name) is False:
            action = host.docker_cli.start(name, "it ran before the migration stopped it")
            action.apply()
            host.did(action.command, action.why)


def start_docker_as_before(host, state):
    source = state.data["source"]
    info = host.start_docker_and_wait()
    host.did("systemctl start docker.service", "Docker on its old storage")
    if not info or info.get("Driver") != source["driver"]:
        raise ModuleError("rollback: Docker did not come back on %s" % source["driver"])
    problems = compare_images(state.data["inventory"]["images"], host.images())
    if problems:
        raise ModuleError("rollback: %s" % "; ".join(problems))
    start_containers_that_ran(host, state)
    remove_layer_images(host)


def remove_layer_images(host):
    """The writable layers this attempt committed in the old Docker (they stay in the export)."""
    record = host.read_json(containers_file(host)) or {}
    images = sorted(set((record.get("layers") or {}).values()))
    if images:
        host.docker_cli.remove_images(images)
        host.did("docker image rm %s" % " ".join(images), "the layers this attempt committed")


def rollback(host, state):
    """Put the host back as it was before the migration, Docker on its old storage."""
    if state is None or state.phase in (PHASE_ROLLED_BACK, PHASE_COMPLETE):
        return {"changed": False}
    host.did("roll back", host.params["error"] or state.data.get("error") or "on request")
    if host.check_mode:
        return {}
    state.begin_rollback(host.params["error"])
    host.save_state(state)
    files_verified = None
    # Before the stop step Docker's data and settings are untouched: only remove the pool made
    # while Docker ran (prepare) and let Docker run again (a power cut during the stop step may
    # have left it held).
    if not state.needs_rollback() and host.unit_active("docker.service"):
        remove_what_was_made(host, state)
        host.unhold_docker()
        start_containers_that_ran(host, state)
        remove_layer_images(host)
    else:
        # with live-restore, stopping Docker alone would leave the new storage's containers
        # running (and holding its pool)
        for action in stop_running(host, state, record=False):
            action.apply()
            host.did(action.command, action.why)
        host.hold_docker()
        for network in sorted(state.networks_made.values(), key=lambda n: n["id"]):
            # the new Docker's bridges would shadow the old one's (the same subnets)
            if network["bridge"] and host.link_exists(network["bridge"]):
                host.delete_link(network["bridge"])
                host.did("ip link delete %s" % network["bridge"], "a bridge the new Docker made")
        if state.is_done("backup"):
            # what is mounted under the new directory now was mounted by the new storage
            refuse_mounts(host, state)
        restore_config(host, state)
        host.systemd.daemon_reload()
        files_verified = put_docker_root_back(host, state)
        remove_what_was_made(host, state)
        pool = state.data["source"].get("pool")
        if pool and os.path.exists(POOL_CONF % pool):
            host.systemd.restart(POOL_UNIT % pool)
            host.did("systemctl restart %s" % (POOL_UNIT % pool), "the old pool back")
        host.unhold_docker()
        if state.data.get("docker_active", True):
            start_docker_as_before(host, state)
    state.rolled_back(files_verified)
    host.save_state(state)
    return {"error": state.data["error"]}
