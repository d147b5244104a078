#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_storage_migration
short_description: The steps of moving Docker's images and volumes to other storage, recorded on the host
version_added: 0.1.0
description:
  - Carries out one O(step) of a migration of Docker's storage (loop-lvm to direct-lvm, or
    devicemapper to overlay2) and records it in a state file on the host, so that a run that is
    interrupted, even by a power cut, knows where it stands. The
    M(devmapper.storage.storage_migration) role runs the steps in order; the storage change itself
    (V(switch)) is done by the storage roles between them.
  - Nothing is ever deleted that is the only copy of some data. Images are exported with
    C(docker save) and volumes archived (with a checksum of every file) while Docker still runs;
    Docker's directory is then moved aside (or archived) whole and stays until O(remove_backup).
  - V(rollback) puts the old configuration files, Docker's directory and the old pool back and
    starts Docker as it was.
extends_documentation_fragment:
  - devmapper.storage.common
attributes:
  check_mode:
    description: V(status) and V(preflight) run as usual (they change nothing); other steps report
      what they would do and do none of it.
  diff_mode:
    support: none
    description: Each step reports what it did in RV(actions); the state file holds the rest.
options:
  step:
    description:
      - V(status) reads the state file. V(preflight) checks that the migration can run (Docker
        running on devicemapper, room for the backup) and changes nothing. V(begin) records the
        inventory and copies the configuration files.
      - V(export), V(stop), V(backup), V(release_source), V(import), V(restore) and V(verify) are
        the migration's steps; V(record) records O(name) (V(switch) or V(start)), done outside the
        module; V(unhold) lets Docker start again; V(finish) marks the migration complete (and
        removes the backup when O(remove_backup)); V(rollback) undoes it.
    type: str
    required: true
    choices: [status, preflight, begin, export, stop, backup, release_source, record, unhold,
              import, restore, verify, finish, rollback]
  name:
    description: With O(step=record), the step that was done (V(switch) or V(start)).
    type: str
    choices: [switch, start]
  target:
    description: What Docker runs on afterwards.
    type: str
    choices: [direct_lvm, overlay2]
  backup_dir:
    description:
      - Where the export, the copies of the configuration files and the backup of Docker's directory
        go. With O(backup_mode=move) it must be on the filesystem of O(docker_root).
    type: path
    default: /var/lib/docker-migration
  backup_mode:
    description:
      - V(move) renames O(docker_root) into O(backup_dir) (instant, needs no room). V(archive)
        writes a tar of it to O(backup_dir) (any filesystem with room) and then empties it.
    type: str
    default: move
    choices: [move, archive]
  remove_backup:
    description: With O(step=finish), delete the backup once the migration is verified.
    type: bool
    default: false
  docker_root:
    description: Docker's data directory.
    type: path
    default: /var/lib/docker
  state_file:
    description: The state file.
    type: path
    default: /var/lib/devmapper-storage/migration.json
  config_paths:
    description: Configuration files and directories that the switch may change; copied at
      V(begin) and put back exactly (including absence) by V(rollback).
    type: list
    elements: path
    default: [/etc/docker/daemon.json, /etc/systemd/system/docker.service.d/10-devmapper-pool.conf,
              /etc/devmapper-storage/pools]
  target_vg:
    description: With O(target=direct_lvm), the VG the switch makes; V(rollback) removes it when
      V(begin) found it absent.
    type: str
  error:
    description: With O(step=rollback), what went wrong (kept in the state file).
    type: str
  fault_point:
    description:
      - For fault-injection tests only. V(hang:STEP) stops at STEP after its effect and before it
        is recorded, writes C(/run/devmapper-migration-fault) and waits (for a power cut);
        V(fail:STEP) fails there.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Where does this host's migration stand?
  devmapper.storage.docker_storage_migration:
    step: status
  register: migration

- name: Check that a move to overlay2 can run (changes nothing)
  devmapper.storage.docker_storage_migration:
    step: preflight
    target: overlay2
    backup_dir: /srv/docker-migration
"""

RETURN = r"""
state:
  description:
    - The state file's content after the step (null when there is none).
    - C(done) lists the steps done, in order; C(finished_at) maps each to the time it was
      recorded (seconds since the epoch), so C(finished_at.start) minus C(finished_at.export)
      bounds how long Docker was down.
  returned: always
  type: dict
next_step:
  description: The first step not done yet (null when all are).
  returned: always
  type: str
plan:
  description: With O(step=status), what the role should do next.
  returned: always
  type: str
  sample: resume
inventory:
  description: With O(step=preflight), Docker's tagged images, containers and volumes.
  returned: when step is preflight
  type: dict
space:
  description: With O(step=preflight), bytes needed and free per filesystem.
  returned: when step is preflight
  type: dict
actions:
  description: What the step did (or would do in check mode).
  returned: always
  type: list
  elements: str
"""

import datetime
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import DeviceMapper
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import (
    DockerCli, pool_name)
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    free_bytes, fsync_path, mount_point, read_json, remove_path, sha256_file, tree_bytes,
    tree_checksums, write_json_durably)
from ansible_collections.devmapper.storage.plugins.module_utils.host.loop import LoopDevices
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import Systemd
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.migration import (
    MIGRATION_INPUTS, PHASE_COMPLETE, PHASE_MIGRATING, PHASE_ROLLED_BACK, PHASE_ROLLING_BACK,
    STEPS, MigrationState, compare_files, compare_images, container_inventory, export_bytes,
    image_inventory, space_shortfalls, target_reached, untagged_images, volume_inventory)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, ToolRunner, exit_module)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import human as format_bytes

FAULT_MARKER = "/run/devmapper-migration-fault"
# Files larger than this are recorded by size only in the backup's manifest: Docker's own
# loop-lvm keeps 100G sparse files in its directory, and reading them would take hours.
MANIFEST_HASH_LIMIT = 1024 * 1024 * 1024
DOCKER_UNITS = ["docker.socket", "docker.service"]


class MigrationIO(object):
    """Everything the steps do to the host."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.docker_cli = DockerCli(module)
        self.systemd = Systemd(module)
        self.dm = DeviceMapper(module)
        self.loop = LoopDevices(module)
        self.lvm = LvmReports(module)
        self.tar = ToolRunner(module, "tar")
        self.actions = []

    # -- paths -------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.params["backup_dir"], *parts)

    @property
    def export_dir(self):
        return self.path("export")

    @property
    def docker_backup(self):
        return self.path("docker")

    @property
    def docker_archive(self):
        return self.path("docker.tar")

    # -- state ---------------------------------------------------------------------------------
    def load_state(self):
        data = read_json(self.params["state_file"])
        return MigrationState(data) if data else None

    def save_state(self, state):
        # the step's own files reach the disk before the record that says the step is done
        os.sync()
        write_json_durably(self.module, self.params["state_file"], state.to_dict())

    def did(self, text):
        self.actions.append(text)

    def fault(self, step):
        point = self.params["fault_point"]
        if not point or point.split(":", 1)[-1] != step:
            return
        mode = point.split(":", 1)[0]
        if mode == "fail":
            raise ModuleError("fault injected at step %s (fault_point=%s)" % (step, point))
        os.sync()
        with open(FAULT_MARKER, "w") as handle:
            handle.write(step + "\n")
        time.sleep(900)
        raise ModuleError("fault point %s was reached and nobody cut the power" % point)

    # -- Docker --------------------------------------------------------------------------------
    def docker_info(self):
        return self.docker_cli.info()

    def images(self):
        return self.docker_cli.inspect_all("image")

    def inventory(self):
        images = self.images()
        volumes = volume_inventory(self.docker_cli.inspect_all("volume"))
        for volume in volumes:
            volume["bytes"] = tree_bytes(volume["mountpoint"]) if volume["restorable"] else 0
        return {
            "images": image_inventory(images),
            "untagged_images": untagged_images(images),
            "containers": container_inventory(self.docker_cli.inspect_all("container")),
            "volumes": volumes,
        }

    def unit_active(self, unit):
        return self.systemd.is_active(unit)

    def hold_docker(self):
        """Stop Docker and keep it from starting, across reboots, until unhold: a Docker that
        started on the old settings with its directory moved aside would make a new, empty one."""
        self.systemd.mask(DOCKER_UNITS)
        self.systemd.stop(DOCKER_UNITS)
        if self.unit_active("docker.service"):
            raise ModuleError("docker.service is still active after systemctl stop")
        self.did("masked and stopped %s" % ", ".join(DOCKER_UNITS))

    def unhold_docker(self):
        self.systemd.unmask(DOCKER_UNITS)
        self.systemd.daemon_reload()
        self.did("unmasked %s" % ", ".join(DOCKER_UNITS))

    # -- pools -----------------------------------------------------------------------------------
    def pool_backend(self, name):
        """`loop`, `lvm`, `dm` (another raw pool) or None when there is no such device."""
        return self.dm.backend(name)

    def release_loop_pool(self, name):
        loops = self.dm.loop_devices_under(name)
        self.dm.remove_now(name)
        for loop in loops:
            self.loop.detach_now(loop)
        self.did("removed loop pool %s and detached %s" % (name, ", ".join(loops)))

    def vg_exists(self, vg):
        return self.lvm.vg_exists(vg)


def source_of(io, info):
    pool = pool_name(info) if info else None
    return {"driver": info.get("Driver") if info else None, "pool": pool,
            "pool_backend": io.pool_backend(pool) if pool else None,
            "docker_root": info.get("DockerRootDir") if info else None}


# -- steps ---------------------------------------------------------------------------------------

def step_status(io, state):
    params = io.params
    if state is None or state.phase == PHASE_ROLLED_BACK:
        info = io.docker_info()
        if info and params["target"] and target_reached(params["target"], info.get("Driver"),
                                                        source_of(io, info)["pool_backend"]):
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


def step_preflight(io):
    """Every check a new migration must pass; changes nothing."""
    params = io.params
    if not params["target"]:
        raise ModuleError("target: give direct_lvm or overlay2")
    info = io.docker_info()
    if info is None:
        raise ModuleError("Docker is not running: the migration exports images and volumes "
                          "through it. Start Docker (systemctl start docker) and run again; "
                          "nothing was changed.")
    source = source_of(io, info)
    if source["driver"] != "devicemapper":
        raise ModuleError("target: Docker runs on %s, not devicemapper; this migration moves "
                          "devicemapper hosts (nothing was changed)" % source["driver"])
    if target_reached(params["target"], source["driver"], source["pool_backend"]):
        raise ModuleError("target: Docker already runs on %s" % params["target"])
    docker_root = os.path.realpath(params["docker_root"])
    if source["docker_root"] and os.path.realpath(source["docker_root"]) != docker_root:
        raise ModuleError("docker_root: Docker's data is in %s, not %s"
                          % (source["docker_root"], docker_root))
    backup_dir = os.path.realpath(params["backup_dir"])
    if backup_dir == docker_root or backup_dir.startswith(docker_root + "/"):
        raise ModuleError("backup_dir: %s is inside Docker's directory %s; choose a place "
                          "outside it (nothing was changed)" % (backup_dir, docker_root))
    for leftover in (io.docker_backup, io.docker_archive):
        if os.path.exists(leftover):
            raise ModuleError("backup_dir: %s holds the backup of an earlier migration; remove it "
                              "(or run that migration's finish with remove_backup=true) or choose "
                              "another backup_dir (nothing was changed)" % leftover)
    if params["backup_mode"] == "move":
        if os.path.ismount(docker_root):
            raise ModuleError("backup_mode: %s is a mount point and cannot be moved aside; use "
                              "backup_mode=archive (nothing was changed)" % docker_root)
        if mount_point(backup_dir) != mount_point(docker_root):
            raise ModuleError("backup_dir: backup_mode=move renames %s, so %s must be on its "
                              "filesystem (%s), not on %s; choose such a place or use "
                              "backup_mode=archive (nothing was changed)"
                              % (docker_root, backup_dir, mount_point(docker_root),
                                 mount_point(backup_dir)))
    inventory = io.inventory()
    needs = {}
    backup_fs = mount_point(backup_dir)
    needs[backup_fs] = export_bytes(inventory)
    if params["backup_mode"] == "archive":
        needs[backup_fs] += tree_bytes(docker_root)
    if params["target"] == "overlay2":
        # overlay2 unpacks the imported images into Docker's directory
        root_fs = mount_point(docker_root)
        needs[root_fs] = needs.get(root_fs, 0) + sum(i["size"] for i in inventory["images"])
    free = dict((fs, free_bytes(fs)) for fs in needs)
    short = space_shortfalls(needs, free)
    space = {"needed": needs, "free": free}
    if short:
        raise ModuleError(
            "backup_dir: not enough space for the migration's backup: %s. Free space there, or "
            "set backup_dir to a filesystem with room (backup_mode=archive for another filesystem); "
            "nothing was changed." % "; ".join(
                "%s needs %s and has %s free" % (s["filesystem"], format_bytes(s["needed"]),
                                                 format_bytes(s["free"])) for s in short),
            space=space)
    return {"changed": False, "inventory": inventory, "space": space, "source": source,
            "docker_active": io.unit_active("docker.service")}


def step_begin(io, state):
    if state is not None and state.phase in (PHASE_MIGRATING, PHASE_ROLLING_BACK):
        return {"changed": False}
    params = io.params
    checked = step_preflight(io)
    config_dir = io.path("config")
    saved = {}
    io.did("record the inventory and copy %s to %s" % (", ".join(params["config_paths"]),
                                                       config_dir))
    if io.module.check_mode:
        return {"changed": True, "inventory": checked["inventory"]}
    attempt = (state.data.get("attempt", 1) + 1) if state else 1
    if os.path.exists(config_dir):
        shutil.rmtree(config_dir)
    os.makedirs(config_dir, 0o700)
    for index, path in enumerate(params["config_paths"]):
        copy = os.path.join(config_dir, "%02d-%s" % (index, os.path.basename(path)))
        if os.path.isdir(path):
            shutil.copytree(path, copy, symlinks=True)
        elif os.path.exists(path):
            shutil.copy2(path, copy)
        saved[path] = copy if os.path.exists(path) else None
    new = MigrationState.new(
        params["target"], params["backup_dir"], params["backup_mode"], checked["source"],
        checked["inventory"], saved, params["target_vg"],
        params["target"] == "direct_lvm" and not io.vg_exists(params["target_vg"]),
        datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"))
    new.data["attempt"] = attempt
    new.data["docker_active"] = checked["docker_active"]
    io.save_state(new)
    return {"changed": True, "inventory": checked["inventory"]}


def image_file(image):
    return "%s.tar" % image["id"].split(":")[-1]


def step_export(io, state):
    inventory = state.data["inventory"]
    images_dir = os.path.join(io.export_dir, "images")
    volumes_dir = os.path.join(io.export_dir, "volumes")
    io.did("docker save %d tagged images and archive %d volumes to %s"
           % (len(inventory["images"]), len([v for v in inventory["volumes"] if v["restorable"]]),
              io.export_dir))
    if io.module.check_mode:
        return
    for directory in (images_dir, volumes_dir):
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
    manifest = {"images": [], "volumes": []}
    for image in inventory["images"]:
        final = os.path.join(images_dir, image_file(image))
        tmp = final + ".part"
        io.docker_cli.save(tmp, image["tags"])
        fsync_path(tmp)
        os.rename(tmp, final)
        manifest["images"].append(dict(image, file=os.path.basename(final),
                                       sha256=sha256_file(final)))
    for volume in inventory["volumes"]:
        if not volume["restorable"]:
            continue
        final = os.path.join(volumes_dir, "%s.tar" % volume["name"])
        tmp = final + ".part"
        files = tree_checksums(volume["mountpoint"])
        io.tar.run(["--create", "--file", tmp, "--numeric-owner", "--xattrs", "--acls",
                    "--directory", volume["mountpoint"], "."])
        fsync_path(tmp)
        os.rename(tmp, final)
        manifest["volumes"].append(dict(volume, file=os.path.basename(final),
                                        sha256=sha256_file(final), files=files))
    write_json_durably(io.module, os.path.join(io.export_dir, "manifest.json"), manifest)


def export_manifest(io):
    manifest = read_json(os.path.join(io.export_dir, "manifest.json"))
    if manifest is None:
        raise ModuleError("%s/manifest.json is missing: the export is gone" % io.export_dir)
    return manifest


def step_stop(io, state):
    io.did("mask and stop %s" % ", ".join(DOCKER_UNITS))
    if not io.module.check_mode:
        io.hold_docker()


def step_backup(io, state):
    docker_root = io.params["docker_root"]
    mode = state.data["backup_mode"]
    io.did("%s %s to %s" % ("move" if mode == "move" else "archive", docker_root,
                            io.docker_backup if mode == "move" else io.docker_archive))
    if io.module.check_mode:
        return
    if io.unit_active("docker.service"):
        raise ModuleError("docker.service is running again; it must stay stopped during the backup")
    manifest_path = io.path("docker-backup.manifest.json")
    if mode == "move":
        if os.path.exists(docker_root) and not os.path.exists(io.docker_backup):
            sums = tree_checksums(docker_root, MANIFEST_HASH_LIMIT)
            write_json_durably(io.module, manifest_path, sums)
            os.rename(docker_root, io.docker_backup)
            fsync_path(os.path.dirname(docker_root))
        elif os.path.exists(docker_root):
            raise ModuleError("both %s and its backup %s exist; something made a new %s while "
                              "Docker was held stopped" % (docker_root, io.docker_backup,
                                                           docker_root))
        elif not os.path.exists(io.docker_backup):
            raise ModuleError("neither %s nor its backup %s exists"
                              % (docker_root, io.docker_backup))
        return
    # archive: the directory is emptied only once the archive is whole, synced and recorded
    if not state.data.get("archive_sha256"):
        sums = tree_checksums(docker_root, MANIFEST_HASH_LIMIT)
        write_json_durably(io.module, manifest_path, sums)
        tmp = io.docker_archive + ".part"
        io.tar.run(["--create", "--file", tmp, "--sparse", "--numeric-owner", "--xattrs", "--acls",
                    "--directory", docker_root, "."])
        fsync_path(tmp)
        os.rename(tmp, io.docker_archive)
        state.data["archive_sha256"] = sha256_file(io.docker_archive)
        io.save_state(state)
    for name in os.listdir(docker_root) if os.path.isdir(docker_root) else []:
        remove_path(os.path.join(docker_root, name))


def step_release_source(io, state):
    source = state.data["source"]
    if state.data["target"] != "direct_lvm" or source["pool_backend"] != "loop":
        return
    if io.pool_backend(source["pool"]) != "loop":
        return
    io.did("deactivate loop pool %s (its files stay) so the new pool can take the name"
           % source["pool"])
    if not io.module.check_mode:
        io.release_loop_pool(source["pool"])


def docker_images_now(io):
    return image_inventory(io.images())


def step_import(io, state):
    manifest = export_manifest(io)
    have = dict((i["id"], set(i["tags"])) for i in docker_images_now(io))
    for image in manifest["images"]:
        if image["id"] in have and set(image["tags"]) <= have[image["id"]]:
            continue
        path = os.path.join(io.export_dir, "images", image["file"])
        io.did("docker load %s (%s)" % (path, ", ".join(image["tags"])))
        if io.module.check_mode:
            continue
        if sha256_file(path) != image["sha256"]:
            raise ModuleError("%s does not match its checksum from the export" % path)
        io.docker_cli.load(path)


def step_restore(io, state):
    manifest = export_manifest(io)
    for volume in manifest["volumes"]:
        io.did("restore volume %s" % volume["name"])
        if io.module.check_mode:
            continue
        path = os.path.join(io.export_dir, "volumes", volume["file"])
        if sha256_file(path) != volume["sha256"]:
            raise ModuleError("%s does not match its checksum from the export" % path)
        if not io.docker_cli.volume_exists(volume["name"]):
            io.docker_cli.volume_create(volume["name"], volume["driver"], volume["labels"],
                                        volume["options"])
        mountpoint = io.docker_cli.volume_mountpoint(volume["name"])
        # a run cut short may have extracted part of it; start from empty
        for name in os.listdir(mountpoint):
            remove_path(os.path.join(mountpoint, name))
        io.tar.run(["--extract", "--file", path, "--numeric-owner", "--xattrs", "--acls",
                    "--same-permissions", "--directory", mountpoint])


def verification_problems(io):
    manifest = export_manifest(io)
    problems = compare_images(manifest["images"], docker_images_now(io))
    files = 0
    for volume in manifest["volumes"]:
        if not io.docker_cli.volume_exists(volume["name"]):
            problems.append("volume %s is missing" % volume["name"])
            continue
        actual = tree_checksums(io.docker_cli.volume_mountpoint(volume["name"]))
        problems += compare_files(volume["name"], volume["files"], actual)
        files += len(volume["files"])
    return problems, {"images": len(manifest["images"]), "volumes": len(manifest["volumes"]),
                      "volume_files": files}


def step_verify(io, state):
    io.did("compare image ids and tags, and every volume file's checksum, with the export")
    if io.module.check_mode:
        return {}
    problems, counts = verification_problems(io)
    if problems:
        raise ModuleError("verification failed: %s" % "; ".join(problems[:20]),
                          problems=problems)
    return {"verified": counts}


def remove_backup(io, state):
    removed = []
    for path in (io.docker_backup, io.docker_archive, io.export_dir, io.path("config"),
                 io.path("docker-backup.manifest.json")):
        if os.path.lexists(path):
            removed.append(path)
            if not io.module.check_mode:
                remove_path(path)
    for path in removed:
        io.did("remove backup %s" % path)
    return removed


def step_finish(io, state):
    result = {}
    if state.phase != PHASE_COMPLETE:
        missing = state.missing_before("verify") + ([] if state.is_done("verify") else ["verify"])
        if missing:
            raise ModuleError("finish: steps %s are not done" % ", ".join(missing))
        io.did("mark the migration complete")
        if not io.module.check_mode:
            state.data["phase"] = PHASE_COMPLETE
            state.data["completed_at"] = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
            io.save_state(state)
    if io.params["remove_backup"]:
        result["removed"] = remove_backup(io, state)
    else:
        result["kept"] = [p for p in (io.docker_backup, io.docker_archive, io.export_dir)
                          if os.path.exists(p)]
    if state.data["source"].get("pool_backend") == "loop" and state.data["target"] == "direct_lvm":
        result["left_in_place"] = ("the old loop pool's files (see pool %s's loop devices before "
                                   "the migration); delete them when the backup is no longer "
                                   "needed" % state.data["source"]["pool"])
    return result


def restore_config(io, state):
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
    io.did("put back %s" % ", ".join(sorted(state.data["config_paths"])))


def put_docker_root_back(io, state):
    docker_root = io.params["docker_root"]
    manifest = read_json(io.path("docker-backup.manifest.json"))
    if state.data["backup_mode"] == "move":
        if not os.path.exists(io.docker_backup):
            return None
        if os.path.exists(docker_root):
            aside = "%s.migration-failed.%d" % (docker_root, int(time.time()))
            os.rename(docker_root, aside)
            io.did("moved the new %s aside to %s" % (docker_root, aside))
        os.rename(io.docker_backup, docker_root)
        fsync_path(os.path.dirname(docker_root))
        io.did("moved %s back to %s" % (io.docker_backup, docker_root))
    else:
        if not state.data.get("archive_sha256") or not os.path.exists(io.docker_archive):
            return None
        if os.path.exists(docker_root):
            aside = "%s.migration-failed.%d" % (docker_root, int(time.time()))
            os.rename(docker_root, aside)
            io.did("moved the new %s aside to %s" % (docker_root, aside))
        os.makedirs(docker_root, 0o710)
        io.tar.run(["--extract", "--file", io.docker_archive, "--sparse", "--numeric-owner",
                    "--xattrs", "--acls", "--same-permissions", "--directory", docker_root])
        io.did("extracted %s into %s" % (io.docker_archive, docker_root))
    if manifest is not None:
        now = tree_checksums(docker_root, MANIFEST_HASH_LIMIT)
        problems = compare_files(docker_root, manifest, now)
        if problems:
            raise ModuleError("rollback: %s differs from its backup manifest: %s"
                              % (docker_root, "; ".join(problems[:10])))
        return len(manifest)
    return None


def step_rollback(io, state):
    """Put the host back as it was before the migration, Docker on its old storage."""
    if state is None or state.phase in (PHASE_ROLLED_BACK, PHASE_COMPLETE):
        return {"changed": False}
    io.did("roll back: %s" % (io.params["error"] or state.data.get("error") or "on request"))
    if io.module.check_mode:
        return {}
    if state.phase != PHASE_ROLLING_BACK:
        state.data["phase"] = PHASE_ROLLING_BACK
        state.data["error"] = io.params["error"] or "rolled back on request"
        io.save_state(state)
    source = state.data["source"]
    # Before the stop step Docker's data and settings are untouched: only let Docker run again
    # (a power cut during the stop step may have left it masked).
    if not state.needs_rollback() and io.unit_active("docker.service"):
        io.unhold_docker()
    else:
        io.hold_docker()
        vg = state.data.get("target_vg")
        if state.data["target"] == "direct_lvm" and vg and io.vg_exists(vg):
            if state.data.get("created_vg"):
                pvs = io.lvm.pv_names(vg)
                ToolRunner(io.module, "vgchange").run(["--activate", "n", vg])
                ToolRunner(io.module, "vgremove").run(["--force", vg])
                for pv in pvs:
                    ToolRunner(io.module, "pvremove").run(["--yes", pv], check=False)
                io.did("removed volume group %s that the migration made" % vg)
            else:
                ToolRunner(io.module, "vgchange").run(["--activate", "n", vg])
                io.did("deactivated volume group %s" % vg)
        restore_config(io, state)
        io.systemd.daemon_reload()
        state.data["rollback_files_verified"] = put_docker_root_back(io, state)
        if source.get("pool") and os.path.exists("/etc/devmapper-storage/pools/%s.conf"
                                                 % source["pool"]):
            io.systemd.restart("devmapper-pool@%s.service" % source["pool"])
            io.did("brought pool %s back" % source["pool"])
        io.unhold_docker()
        if state.data.get("docker_active", True):
            io.systemd.start("docker.service")
            io.did("started docker.service")
            info = None
            for dummy in range(60):
                info = io.docker_info()
                if info:
                    break
                time.sleep(2)
            if not info or info.get("Driver") != source["driver"]:
                raise ModuleError("rollback: Docker did not come back on %s" % source["driver"])
            problems = compare_images(state.data["inventory"]["images"], docker_images_now(io))
            if problems:
                raise ModuleError("rollback: %s" % "; ".join(problems))
    state.data["phase"] = PHASE_ROLLED_BACK
    state.data["done"] = []
    state.data.pop("finished_at", None)
    io.save_state(state)
    return {"error": state.data["error"]}


STEP_FUNCTIONS = {
    "export": step_export, "stop": step_stop, "backup": step_backup,
    "release_source": step_release_source, "import": step_import, "restore": step_restore,
    "verify": step_verify,
}


def run_step(io, state, step):
    if state is None or state.phase != PHASE_MIGRATING:
        raise ModuleError("step: no migration under way (%s); run step=begin first"
                          % io.params["state_file"])
    if state.is_done(step):
        return {"changed": False}
    missing = state.missing_before(step)
    if missing:
        raise ModuleError("step: %s needs %s first" % (step, ", ".join(missing)))
    result = {}
    if step in STEP_FUNCTIONS:
        result = STEP_FUNCTIONS[step](io, state) or {}
    else:
        io.did("record step %s" % step)
    io.fault(step)
    if not io.module.check_mode:
        state.mark_done(step, at=time.time())
        io.save_state(state)
    result["changed"] = True
    return result


def run_module(module):
    params = check_inputs(module.params, MIGRATION_INPUTS)
    io = MigrationIO(module)
    state = io.load_state()
    step = params["step"]
    if step == "status":
        result = step_status(io, state)
    elif step == "preflight":
        result = step_preflight(io)
    elif step == "begin":
        result = step_begin(io, state)
    elif step == "record":
        result = run_step(io, state, params["name"])
    elif step == "unhold":
        io.did("unmask %s" % ", ".join(DOCKER_UNITS))
        if not module.check_mode:
            io.unhold_docker()
        result = {"changed": True}
    elif step == "finish":
        if state is None:
            raise ModuleError("step: no migration recorded in %s" % params["state_file"])
        result = step_finish(io, state)
        result["changed"] = bool(io.actions)
    elif step == "rollback":
        result = step_rollback(io, state)
        result.setdefault("changed", bool(io.actions))
    else:
        result = run_step(io, state, step)
    state = io.load_state()
    result["state"] = state.to_dict() if state else None
    result["next_step"] = state.next_step() if state and state.phase == PHASE_MIGRATING else None
    result.setdefault("plan", None)
    result["actions"] = io.actions
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", required=True,
                      choices=["status", "preflight", "begin", "record", "unhold", "finish",
                               "rollback"] + list(STEPS[:4]) + ["import", "restore", "verify"]),
            name=dict(type="str", choices=["switch", "start"]),
            target=dict(type="str", choices=["direct_lvm", "overlay2"]),
            backup_dir=dict(type="path", default="/var/lib/docker-migration"),
            backup_mode=dict(type="str", default="move", choices=["move", "archive"]),
            remove_backup=dict(type="bool", default=False),
            docker_root=dict(type="path", default="/var/lib/docker"),
            state_file=dict(type="path", default="/var/lib/devmapper-storage/migration.json"),
            config_paths=dict(type="list", elements="path",
                              default=["/etc/docker/daemon.json",
                                       "/etc/systemd/system/docker.service.d/10-devmapper-pool.conf",
                                       "/etc/devmapper-storage/pools"]),
            target_vg=dict(type="str"),
            error=dict(type="str"),
            fault_point=dict(type="str", default=""),
        ),
        required_if=[("step", "record", ["name"])],
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
