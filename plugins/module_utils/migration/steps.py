# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps of a migration, in order: the one registry (``REGISTRY``) from which the state's
order, the module's choices and the role's calls come.

Each step's planner reads the host and returns what it would do (``Do`` steps and command
Actions, each with why); ``run.py`` applies them only when not in check mode. ``prepare`` is done
by the role (the new pool made, under a name of its own, while Docker runs) and only recorded.

Docker runs during ``export`` and ``prepare``. The downtime begins with ``stop_containers`` (the
containers stopped, their settings kept, their changed layers committed and saved) and the role
runs it through ``import`` in one module run. While Docker is down (``stop`` to ``start``) only
what must be done then is done: Docker held, its directory renamed aside, the volumes renamed
back in (the same filesystem: nothing is copied or hashed), the old pool released, the new one
renamed into its place, the files switched (switch_steps.py). ``import`` loads the images;
``recreate`` brings the containers back; ``verify`` hashes the backup (outside the downtime).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import os

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    fsync_path, sha256_file, tree_checksums)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.host import (
    DOCKER_UNITS, remove_on_one_device, same_device_entries)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.inventory import (
    carried_volume_problems, compare_images)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.container_steps import (
    container_problems, downtime_begins, plan_recreate, plan_stop_containers, stop_running)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.plan import Do
from ansible_collections.devmapper.storage.plugins.module_utils.migration.switch_steps import (
    plan_start, plan_switch)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

# Files larger than this are recorded by size only in the backup's manifest: Docker's own
# loop-lvm keeps 100G sparse files in its directory, and reading them would take hours.
MANIFEST_HASH_LIMIT = 1024 * 1024 * 1024
VOLUMES = "volumes"


# -- export (Docker runs) ----------------------------------------------------------------------

IMAGES_FILE = "images.tar"


def save_images(host, images, final, manifest):
    tmp = final + ".part"
    host.docker_cli.save(tmp, sorted(tag for image in images for tag in image["tags"]))
    fsync_path(tmp)
    os.rename(tmp, final)
    manifest.update(images=images, file=os.path.basename(final))


def plan_export(host, state, result):
    """Every tagged image in one archive, as the runbook's docker save does: one docker load
    brings them back (a load per image costs a CLI start each, while the images are not back),
    and shared layers are written once. docker load checks each layer against the digest its
    image names, and verify compares the image ids: no checksum of the archive is needed."""
    images = state.data["inventory"]["images"]
    final = os.path.join(host.export_dir, IMAGES_FILE)
    manifest = {"images": [], "file": None}
    actions = [Do("mkdir -p %s" % host.export_dir, "where the images are saved", make_dir,
                  host.export_dir)]
    if images:
        actions.append(Do("docker save --output %s %s" % (final, " ".join(
            tag for image in images for tag in image["tags"])),
            "every tagged image, saved while Docker still runs", save_images, host, images,
            final, manifest))
    path = os.path.join(host.export_dir, "manifest.json")
    actions.append(Do("write %s" % path, "the images saved, and their file", host.write_json,
                      path, manifest))
    return actions


def make_dir(path):
    if not os.path.isdir(path):
        os.makedirs(path, 0o700)


def export_manifest(host):
    manifest = host.read_json(os.path.join(host.export_dir, "manifest.json"))
    if manifest is None:
        raise ModuleError("%s/manifest.json is missing: the export is gone" % host.export_dir)
    return manifest


# -- stop ------------------------------------------------------------------------------------------

def refuse_mounts(host, state):
    left = host.mounts_under_docker_root()
    if state.data["backup_mode"] == "archive":
        # Docker's directory may itself be a mount point (why archive mode exists): only what is
        # mounted below it is in the way (it is emptied, never moved)
        left = [m for m in left if m != os.path.realpath(host.docker_root)]
    if left:
        raise ModuleError(
            "still mounted under %s after Docker stopped: %s. A container still runs (its shim "
            "outlived dockerd), a mount leaked, or another filesystem is mounted there; the "
            "migration never moves or deletes across a mount. Unmount them (or stop what holds "
            "them) and run again" % (host.docker_root, ", ".join(left[:10])))


def plan_stop(host, state, result):
    # After a power cut Docker may have started again at boot, and with it containers whose
    # restart policy is always: they are stopped again first.
    # (not when stop_containers stopped them in this module run: nothing started them since)
    actions = [] if host.containers_stopped else stop_running(host, state)
    actions.append(downtime_begins(host, state))      # kept from the first container stop
    actions.append(Do("write %s; systemctl stop %s" % (host.hold_flag, " ".join(DOCKER_UNITS)),
                      "Docker stays stopped, across reboots, until the new storage is in place",
                      host.hold_docker))
    actions.append(Do("check that nothing is mounted under %s" % host.docker_root,
                      "a container or a filesystem there would be moved or deleted with it",
                      refuse_mounts, host, state))
    return actions


# -- backup and volumes (Docker is down) ---------------------------------------------------------

def write_backup_manifest(host, state):
    """Every file of Docker's directory but the volumes (which are carried, not restored), that a
    rollback compares. Move mode hashes the directory moved aside, which nothing changes, after
    Docker started again (``verify``); archive mode the directory before it is emptied, once
    (a redone step finds it half emptied)."""
    if state.data["backup_mode"] == "move":
        if os.path.exists(host.backup_manifest) or not os.path.exists(host.docker_backup):
            return
        top = host.docker_backup
    elif state.archive_sha256:
        return
    else:
        top = host.docker_root
    sums = tree_checksums(top, MANIFEST_HASH_LIMIT, skip=(VOLUMES,))
    host.write_json(host.backup_manifest, sums)


def move_aside(host):
    root, backup = host.docker_root, host.docker_backup
    if os.path.exists(root) and not os.path.exists(backup):
        os.rename(root, backup)
        fsync_path(os.path.dirname(root))
        fsync_path(os.path.dirname(backup))
    elif os.path.exists(root):
        raise ModuleError("both %s and its backup %s exist; something made a new %s while "
                          "Docker was held stopped" % (root, backup, root))
    elif not os.path.exists(backup):
        raise ModuleError("neither %s nor its backup %s exists" % (root, backup))


def archive(host, state):
    if state.archive_sha256:
        return
    tmp = host.docker_archive + ".part"
    host.tar_create(tmp, host.docker_root, exclude=(VOLUMES,))
    fsync_path(tmp)
    os.rename(tmp, host.docker_archive)
    state.note_archive(sha256_file(host.docker_archive))
    host.save_state(state)


def empty_but_volumes(host):
    if not os.path.isdir(host.docker_root):
        return
    # the whole directory is checked against its own filesystem before anything is deleted: an
    # entry that is a mount point is not in the archive (--one-file-system) and must not be emptied
    same_device_entries(host.docker_root, skip=(VOLUMES,))
    for name in os.listdir(host.docker_root):
        if name != VOLUMES:
            remove_on_one_device(os.path.join(host.docker_root, name))


def plan_backup(host, state, result):
    root = host.docker_root
    if state.data["backup_mode"] == "move":
        return [Do("mv %s %s" % (root, host.docker_backup),
                   "Docker's directory moved aside whole (a rename: no copy; verify hashes it "
                   "once Docker runs again)", move_aside, host)]
    actions = [Do("write %s" % host.backup_manifest,
                  "a checksum of every file of %s but its volumes, which a rollback compares"
                  % root, write_backup_manifest, host, state)]
    actions.append(Do("tar --create --one-file-system --exclude=./%s --file %s --directory %s ."
                      % (VOLUMES, host.docker_archive, root),
                      "Docker's directory archived but its volumes, which stay where they are",
                      archive, host, state))
    actions.append(Do("remove everything in %s but %s/ (never across a mount)" % (root, VOLUMES),
                      "the new storage starts from an empty directory", empty_but_volumes, host))
    return actions


def carry_volumes(host, state):
    root, backup = host.docker_root, host.docker_backup
    inside = os.path.join(root, VOLUMES)
    if state.data["backup_mode"] == "move":
        if not os.path.isdir(root):
            os.mkdir(root, os.stat(backup).st_mode & 0o7777)
        source = os.path.join(backup, VOLUMES)
        if os.path.exists(source) and not os.path.exists(inside):
            os.rename(source, inside)
            fsync_path(backup)
            fsync_path(root)
    identities = {}
    for volume in state.data["inventory"]["volumes"]:
        path = volume["mountpoint"]
        if path and os.path.isdir(path):
            info = os.stat(path)
            identities[volume["name"]] = [info.st_dev, info.st_ino]
    state.note_carried_volumes(identities)


def plan_carry_volumes(host, state, result):
    if state.data["backup_mode"] == "move":
        what = "mv %s %s" % (os.path.join(host.docker_backup, VOLUMES),
                             os.path.join(host.docker_root, VOLUMES))
        why = ("the volumes, as they were when their containers stopped, carried to the new "
               "storage by a rename on the same filesystem (nothing copied)")
    else:
        what = "keep %s" % os.path.join(host.docker_root, VOLUMES)
        why = "the volumes stay where they were when their containers stopped"
    return [Do(what, why, carry_volumes, host, state)]


def release(host, pool):
    loops = host.release_loop_pool(pool)
    host.did("detached %s" % ", ".join(loops), "the loop devices under pool %s" % pool)


def plan_release_source(host, state, result):
    source = state.data["source"]
    if state.data["target"] != "direct_lvm" or source["pool_backend"] != "loop" or \
            host.pool_backend(source["pool"]) != "loop":
        return []
    return [Do("dmsetup remove %s" % source["pool"],
               "the new pool takes its name; its files stay (the backup's data)",
               release, host, source["pool"])]


# -- after the start (Docker runs on the new storage) -----------------------------------------------

def plan_import(host, state, result):
    manifest = export_manifest(host)
    # Docker started in this module run on a directory holding only the volumes: no image to
    # look for (a docker call less before the images are back)
    have = {} if host.started_empty else dict((i["id"], set(i["tags"])) for i in host.images())
    missing = [i for i in manifest["images"]
               if not (i["id"] in have and set(i["tags"]) <= have[i["id"]])]
    if not missing:
        return []
    path = os.path.join(host.export_dir, manifest["file"])
    return [Do("docker load --input %s" % path, ", ".join(t for i in missing for t in i["tags"]),
               host.docker_cli.load, path)]


def verify(host, state, result):
    manifest = export_manifest(host)
    carried = state.carried_volumes
    problems = compare_images(manifest["images"], host.images())
    problems += carried_volume_problems(carried, host.volume_identities())
    more, containers = container_problems(host, state)
    problems += more
    if problems:
        raise ModuleError("verification failed: %s" % "; ".join(problems[:20]), problems=problems)
    result["verified"] = {"images": len(manifest["images"]), "volumes": len(carried),
                          "containers": containers}
    result["containers"] = state.container_ids


def plan_verify(host, state, result):
    manifest = [] if state.data["backup_mode"] != "move" else [
        Do("write %s" % host.backup_manifest, "a checksum of every file of %s but its volumes, "
           "which a rollback compares" % host.docker_backup, write_backup_manifest, host, state)]
    release = [Do("rm %s; systemctl daemon-reload" % " ".join(
        host.hold_drop_in(u) for u in DOCKER_UNITS), "the hold is over (its flag went at start; "
        "the reload waited until now, out of the downtime), and systemd reads the unit files "
        "the switch wrote", host.unhold_docker)]
    compare = Do("compare image ids and tags with the export, each volume with the directory "
                 "carried over, and each container's kept settings with its inspect from before",
                 "nothing is lost", verify, host, state, result)
    return release + manifest + [compare]


StepSpec = collections.namedtuple("StepSpec", "name plan")
REGISTRY = (
    StepSpec("export", plan_export),
    StepSpec("prepare", None),          # the role: prepare_TARGET.yml, while Docker runs
    StepSpec("stop_containers", plan_stop_containers),
    StepSpec("stop", plan_stop),
    StepSpec("backup", plan_backup),
    StepSpec("carry_volumes", plan_carry_volumes),
    StepSpec("release_source", plan_release_source),
    StepSpec("switch", plan_switch),
    StepSpec("start", plan_start),
    StepSpec("import", plan_import),
    StepSpec("recreate", plan_recreate),
    StepSpec("verify", plan_verify),
)
STEP_NAMES = tuple(spec.name for spec in REGISTRY)
ROLE_STEPS = tuple(spec.name for spec in REGISTRY if spec.plan is None)
MODULE_STEPS = tuple(spec.name for spec in REGISTRY if spec.plan is not None)
PLANNERS = dict((spec.name, spec.plan) for spec in REGISTRY if spec.plan is not None)
