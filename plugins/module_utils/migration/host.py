# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Everything a migration does to, or reads from, the host. The steps (steps.py) and the
rollback (rollback.py) decide; this class acts, through the shared tool homes (host/)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import time

from ansible_collections.devmapper.storage.plugins.module_utils.container_filesystems import mounts
from ansible_collections.devmapper.storage.plugins.module_utils.filesystem import FilesystemTools
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import DeviceMapper
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import (
    DockerCli, pool_name)
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker_api import DockerApi
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    mount_point, read_json, read_text, remove_durably, write_durably, write_json_durably)
from ansible_collections.devmapper.storage.plugins.module_utils.host.loop import LoopDevices
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import Systemd
from ansible_collections.devmapper.storage.plugins.module_utils.migration.inventory import (
    container_inventory, image_inventory, mounts_under, untagged_images, volume_inventory,
    xfs_ftype)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.state import (
    MigrationState)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, ToolRunner)

FAULT_MARKER = "/run/devmapper-migration-fault"
DOCKER_UNITS = ("docker.socket", "docker.service")
UNIT_DIR = "/etc/systemd/system"
# Docker is held stopped, across reboots, by a drop-in on each of its units whose start
# condition is that a flag file (next to the state file) does not exist. The drop-ins are
# installed (and systemd reloaded) at begin, while Docker runs; holding and releasing Docker is
# then a file made or removed, without a reload (seconds each on a slow host) while it is down.
# (A mask would need a reload both ways, and a unit file that is a real file in /etc cannot be
# masked at all.)
HOLD_DROP_IN = "00-devmapper-migration-hold.conf"
HOLD_FLAG = "docker-held"
HOLD_CONTENT = ("# devmapper.storage: Docker does not start while %s exists (a storage migration "
                "holds it); playbooks/migrate.yml removes this file\n[Unit]\n"
                "ConditionPathExists=!%s\n")
MOUNTINFO = "/proc/self/mountinfo"
TAR_COMMON = ["--numeric-owner", "--xattrs", "--acls", "--sparse"]


class MigrationHost(object):

    def __init__(self, module, order):
        self.module = module
        self.params = module.params
        self.order = order
        self.check_mode = module.check_mode
        self.docker_cli = DockerCli(module)
        self.docker_api = DockerApi()
        self.systemd = Systemd(module)
        self.dm = DeviceMapper(module)
        self.loop = LoopDevices(module)
        self.lvm = LvmReports(module)
        self.tar = ToolRunner(module, "tar")
        self.ip = ToolRunner(module, "ip")
        self.lvm_tools = dict((name, ToolRunner(module, name))
                              for name in ("vgchange", "vgremove", "pvremove", "lvremove",
                                           "lvchange", "lvrename"))
        self.fs_tools = FilesystemTools(module)
        self.actions = []           # what was done or would be done: {cmd, why}
        # set when step stop_containers stopped them in this module run (step stop needs not
        # look again; it does after a power cut, when Docker may have started them at boot)
        self.containers_stopped = False
        # set when step start started Docker in this module run (its directory holds only the
        # volumes: step import needs not look for images)
        self.started_empty = False

    # -- paths ---------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.params["backup_dir"], *parts)

    @property
    def docker_root(self):
        return self.params["docker_root"]

    @property
    def export_dir(self):
        return self.path("export")

    @property
    def docker_backup(self):
        return self.path("docker")

    @property
    def docker_archive(self):
        return self.path("docker.tar")

    @property
    def backup_manifest(self):
        return self.path("docker-backup.manifest.json")

    # -- state ---------------------------------------------------------------------------------
    def load_state(self):
        data = read_json(self.params["state_file"])
        return MigrationState(data, self.order) if data else None

    def save_state(self, state):
        # the step's own files reach the disk before the record that says the step is done
        os.sync()
        write_json_durably(self.module, self.params["state_file"], state.to_dict())

    def read_json(self, path):
        return read_json(path)

    def write_json(self, path, data):
        write_json_durably(self.module, path, data)

    def did(self, command, why=""):
        self.actions.append({"cmd": command, "why": why})

    def fault(self, step):
        point = self.params["fault_point"]
        if not point or point.split(":", 1)[-1] != step:
            return
        if point.split(":", 1)[0] == "fail":
            raise ModuleError("fault injected at step %s (fault_point=%s)" % (step, point))
        os.sync()
        with open(FAULT_MARKER, "w") as handle:
            handle.write(step + "\n")
        time.sleep(900)
        raise ModuleError("fault point %s was reached and nobody cut the power" % point)

    # -- Docker --------------------------------------------------------------------------------
    def docker_info(self):
        """``docker info`` of a running daemon; None when none answers (the client alone prints
        its own half of the JSON, without a driver)."""
        info = self.docker_cli.info()
        return info if info and info.get("Driver") else None

    def source(self, info):
        pool = pool_name(info) if info else None
        return {"driver": info.get("Driver") if info else None, "pool": pool,
                "pool_backend": self.dm.backend(pool) if pool else None,
                "docker_root": info.get("DockerRootDir") if info else None,
                "live_restore": bool(info.get("LiveRestoreEnabled")) if info else False}

    def images(self):
        return image_inventory(self.docker_cli.inspect_all("image"))

    def containers(self):
        return container_inventory(self.docker_cli.inspect_all("container"))

    def inventory(self):
        images = self.docker_cli.inspect_all("image")
        return {"images": image_inventory(images), "untagged_images": untagged_images(images),
                "containers": self.containers(),
                "volumes": volume_inventory(self.docker_cli.inspect_all("volume"))}

    def names(self, kind):
        """The names of Docker's containers or networks."""
        if kind == "container":
            return [c["name"] for c in self.containers()]
        return [n["Name"] for n in self.docker_cli.inspect_all("network")]

    def volume_identities(self):
        """{volume: [st_dev, st_ino] of its data directory} as Docker shows them now."""
        found = {}
        for volume in volume_inventory(self.docker_cli.inspect_all("volume")):
            try:
                info = os.stat(volume["mountpoint"])
                found[volume["name"]] = [info.st_dev, info.st_ino]
            except OSError:
                found[volume["name"]] = None
        return found

    # -- holding Docker stopped ------------------------------------------------------------------
    def unit_active(self, unit):
        return self.systemd.is_active(unit)

    def hold_drop_in(self, unit):
        return os.path.join(UNIT_DIR, unit + ".d", HOLD_DROP_IN)

    @property
    def hold_flag(self):
        return os.path.join(os.path.dirname(self.params["state_file"]), HOLD_FLAG)

    def install_hold(self):
        """The drop-ins that hold Docker while the flag exists; systemd reloaded when one was
        written. Inert until hold_docker makes the flag."""
        content = HOLD_CONTENT % (self.hold_flag, self.hold_flag)
        written = False
        for unit in DOCKER_UNITS:
            drop_in = self.hold_drop_in(unit)
            if read_text(drop_in) != content:
                write_durably(drop_in, content)
                written = True
        if written:
            self.systemd.daemon_reload()
        return written

    def hold_docker(self):
        """Stop Docker and keep it from starting, across reboots, until release_hold: a Docker
        that started on the old settings with its directory moved aside would make a new, empty
        one."""
        self.install_hold()
        write_durably(self.hold_flag, "held by a storage migration\n")
        self.systemd.stop(DOCKER_UNITS)
        if self.unit_active("docker.service"):
            raise ModuleError("docker.service is still active after systemctl stop")

    def release_hold(self):
        """Docker may start again (no reload: the drop-ins' condition is read at each start)."""
        remove_durably(self.hold_flag)

    def unhold_docker(self):
        """The hold released and its drop-ins removed (and a mask an earlier release made), one
        reload: also for the unit files the switch wrote."""
        self.release_hold()
        masked = [u for u in DOCKER_UNITS if os.path.realpath(os.path.join(UNIT_DIR, u)) ==
                  "/dev/null"]
        if masked:
            self.systemd.unmask(masked, reload=False)
        for unit in DOCKER_UNITS:
            remove_durably(self.hold_drop_in(unit))
        self.systemd.daemon_reload()

    def start_docker_and_wait(self, seconds=120):
        self.systemd.start("docker.service")
        deadline = time.time() + seconds
        while time.time() < deadline:
            info = self.docker_info()
            if info:
                return info
            time.sleep(0.5)         # Docker's downtime lasts until this sees it
        return None

    # -- mounts and filesystems --------------------------------------------------------------------
    def mounts_under_docker_root(self):
        text = read_text(MOUNTINFO) or ""
        return mounts_under([m["mount_point"] for m in mounts(text)],
                            os.path.realpath(self.docker_root))

    def fs_type(self, path):
        """The type of the filesystem that holds ``path`` (its mount in the mount table)."""
        where = mount_point(path)
        types = [m["fs_type"] for m in mounts(read_text(MOUNTINFO) or "")
                 if m["mount_point"] == where]
        return types[-1] if types else None

    def xfs_ftype(self, where):
        dummy, out, dummy = self.fs_tools.xfs_info.run([where])
        return xfs_ftype(out)

    def tar_create(self, archive, directory, exclude=()):
        """A tar of ``directory`` that stays on its filesystem (nothing mounted below is read)."""
        self.tar.run(["--create", "--file", archive, "--one-file-system"] + TAR_COMMON
                     + ["--exclude=./%s" % e for e in exclude] + ["--directory", directory, "."])

    def tar_extract(self, archive, directory, exclude=()):
        self.tar.run(["--extract", "--file", archive, "--same-permissions"] + TAR_COMMON
                     + ["--exclude=./%s" % e for e in exclude] + ["--directory", directory])

    # -- network links ----------------------------------------------------------------------------
    def link_exists(self, name):
        return os.path.exists(os.path.join("/sys/class/net", name))

    def delete_link(self, name):
        self.ip.run(["link", "delete", name])

    # -- pools ---------------------------------------------------------------------------------------
    def pool_backend(self, name):
        """`loop`, `lvm`, `dm` (another raw pool) or None when there is no such device."""
        return self.dm.backend(name)

    def release_loop_pool(self, name):
        loops = self.dm.loop_devices_under(name)
        self.dm.remove_now(name)
        for loop in loops:
            self.loop.detach_now(loop)
        return loops

    def dm_node_exists(self, name):
        return self.dm.node_exists(name)

    def vg_exists(self, vg):
        return self.lvm.vg_exists(vg)

    def lv_names(self, vg):
        """The LVs of ``vg`` (hidden ones too); [] when there is no such VG."""
        if not vg or not self.vg_exists(vg):
            return []
        dummy, rows, dummy = self.lvm.lv_report("lv_name", [vg], all_lvs=True)
        return sorted(row["lv_name"] for row in rows)

    def run_lvm(self, tool, args, check=True):
        # not named ``lvm``: the attribute ``self.lvm`` (LVM's reports) would hide it
        return self.lvm_tools[tool].run(args, check=check)


def same_device_entries(path, skip=()):
    """Every entry under ``path`` (deepest first) when all of them are on ``path``'s filesystem;
    a ModuleError naming the first that is not (a mount point), so that nothing is deleted.
    The top-level entries named in ``skip`` are left out (not checked, not listed)."""
    dev = os.lstat(path).st_dev
    entries = []
    for directory, dirs, files in os.walk(path):
        if directory == path:
            dirs[:] = [d for d in dirs if d not in skip]
            files = [f for f in files if f not in skip]
        for name in dirs + files:
            entry = os.path.join(directory, name)
            info = os.lstat(entry)
            if info.st_dev != dev:
                raise ModuleError("%s is on another filesystem (a mount point under %s); a "
                                  "migration never reads or deletes across a mount. Unmount it "
                                  "and run again" % (entry, path))
            entries.append((entry, stat.S_ISDIR(info.st_mode)))
    return list(reversed(entries))


def remove_on_one_device(path):
    """Remove ``path`` (a file, a symlink or a whole tree) without crossing a mount point: a
    tree is checked whole before anything in it is deleted."""
    if not os.path.lexists(path):
        return
    if os.path.islink(path) or not os.path.isdir(path):
        os.unlink(path)
        return
    for entry, is_dir in same_device_entries(path):
        if is_dir:
            os.rmdir(entry)
        else:
            os.unlink(entry)
    os.rmdir(path)
