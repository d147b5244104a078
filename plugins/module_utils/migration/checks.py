# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``status`` and ``preflight``: where a host stands, and every check a new migration must pass.
Both read only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    free_bytes, mount_point, tree_bytes)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.containers import (
    name_of, uncarriable)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.inventory import (
    export_bytes, space_shortfalls, target_reached)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.state import (
    PHASE_COMPLETE, PHASE_ROLLED_BACK, PHASE_ROLLING_BACK)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import human

UNCHANGED = " (nothing was changed)"


def status(host, state):
    params = host.params
    if state is None or state.phase == PHASE_ROLLED_BACK:
        info = host.docker_info()
        if info and params["target"] and target_reached(
                params["target"], info.get("Driver"), host.source(info)["pool_backend"]):
            plan = "nothing"
        else:
            plan = "start"
    elif state.phase == PHASE_ROLLING_BACK:
        plan = "rollback"
    elif state.phase == PHASE_COMPLETE:
        plan = "nothing" if state.data["target"] == params["target"] else "start"
    else:
        plan = "resume"
        if params["target"] and state.data["target"] != params["target"]:
            raise ModuleError("target: a migration to %s is under way on this host (%s); finish it "
                              "(run again with target=%s) before starting another"
                              % (state.data["target"], params["state_file"], state.data["target"]))
    return {"changed": False, "plan": plan}


def check_source(host, params, source):
    if source["driver"] != "devicemapper":
        raise ModuleError("target: Docker runs on %s, not devicemapper; this migration moves "
                          "devicemapper hosts%s" % (source["driver"], UNCHANGED))
    if target_reached(params["target"], source["driver"], source["pool_backend"]):
        raise ModuleError("target: Docker already runs on %s" % params["target"])
    docker_root = os.path.realpath(params["docker_root"])
    if source["docker_root"] and os.path.realpath(source["docker_root"]) != docker_root:
        raise ModuleError("docker_root: Docker's data is in %s, not %s"
                          % (source["docker_root"], docker_root))
    return docker_root


def check_backup_dir(host, params, docker_root):
    backup_dir = os.path.realpath(params["backup_dir"])
    if backup_dir == docker_root or backup_dir.startswith(docker_root + "/"):
        raise ModuleError("backup_dir: %s is inside Docker's directory %s; choose a place "
                          "outside it%s" % (backup_dir, docker_root, UNCHANGED))
    for leftover in (host.docker_backup, host.docker_archive):
        if os.path.exists(leftover):
            raise ModuleError("backup_dir: %s holds the backup of an earlier migration; remove it "
                              "(or run that migration's finish with remove_backup=true) or choose "
                              "another backup_dir%s" % (leftover, UNCHANGED))
    if params["backup_mode"] == "move":
        if os.path.ismount(docker_root):
            raise ModuleError("backup_mode: %s is a mount point and cannot be moved aside; use "
                              "backup_mode=archive%s" % (docker_root, UNCHANGED))
        if mount_point(backup_dir) != mount_point(docker_root):
            raise ModuleError("backup_dir: backup_mode=move renames %s, so %s must be on its "
                              "filesystem (%s), not on %s; choose such a place or use "
                              "backup_mode=archive%s"
                              % (docker_root, backup_dir, mount_point(docker_root),
                                 mount_point(backup_dir), UNCHANGED))
    return backup_dir


def check_overlay2_filesystem(host, docker_root, fs_type):
    """overlay2 needs d_type: on an XFS made with ftype=0 Docker refuses to start on it."""
    if fs_type != "xfs":
        return
    where = mount_point(docker_root)
    if host.xfs_ftype(where) == 0:
        raise ModuleError("target: overlay2 needs d_type, and the XFS under %s (mounted on %s) was "
                          "made with ftype=0. Give Docker's directory a filesystem made with "
                          "ftype=1 (mkfs.xfs -n ftype=1), or migrate to direct_lvm%s"
                          % (docker_root, where, UNCHANGED))


def check_containers(host, params, inventory):
    """Containers whose settings cannot be carried are refused, unless the operator accepts
    losing them (they stay in the backup)."""
    inspects = host.docker_cli.inspect("container", [c["name"] for c in inventory["containers"]])
    lost = ["%s (%s)" % (name_of(i), "; ".join(uncarriable(i))) for i in inspects
            if uncarriable(i)]
    inventory["uncarriable_containers"] = lost
    if lost and not params["drop_uncarriable_containers"]:
        raise ModuleError("drop_uncarriable_containers: these containers cannot be carried to the "
                          "new storage: %s. Re-create them without those settings first, or set "
                          "drop_uncarriable_containers=true to leave them behind (they stay in "
                          "the backup)%s" % (", ".join(lost), UNCHANGED))


def space_needed(host, params, inventory, docker_root, backup_dir):
    needs = {}
    backup_fs = mount_point(backup_dir)
    needs[backup_fs] = export_bytes(inventory)
    if params["backup_mode"] == "archive":
        # the volumes stay where they are and are not archived
        needs[backup_fs] += tree_bytes(docker_root) - sum(
            tree_bytes(v["mountpoint"]) for v in inventory["volumes"]
            if v["mountpoint"].startswith(docker_root + "/"))
    if params["target"] == "overlay2":
        # overlay2 unpacks the imported images into Docker's directory
        root_fs = mount_point(docker_root)
        needs[root_fs] = needs.get(root_fs, 0) + sum(i["size"] for i in inventory["images"])
    free = dict((fs, free_bytes(fs)) for fs in needs)
    return {"needed": needs, "free": free}


def preflight(host):
    """Every check a new migration must pass; changes nothing."""
    params = host.params
    if not params["target"]:
        raise ModuleError("target: give direct_lvm or overlay2")
    info = host.docker_info()
    if info is None:
        raise ModuleError("Docker is not running: the migration exports images through it. "
                          "Start Docker (systemctl start docker) and run again%s" % UNCHANGED)
    source = host.source(info)
    docker_root = check_source(host, params, source)
    backup_dir = check_backup_dir(host, params, docker_root)
    if params["target"] == "overlay2":
        check_overlay2_filesystem(host, docker_root, host.fs_type(docker_root))
    inventory = host.inventory()
    check_containers(host, params, inventory)
    space = space_needed(host, params, inventory, docker_root, backup_dir)
    short = space_shortfalls(space["needed"], space["free"])
    if short:
        raise ModuleError(
            "backup_dir: not enough space for the migration's backup: %s. Free space there, or "
            "set backup_dir to a filesystem with room (backup_mode=archive for another filesystem); "
            "nothing was changed." % "; ".join(
                "%s needs %s and has %s free" % (s["filesystem"], human(s["needed"]),
                                                 human(s["free"])) for s in short),
            space=space)
    return {"changed": False, "inventory": inventory, "space": space, "source": source,
            "docker_active": host.unit_active("docker.service")}
