# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration reads, without doing any of it: the inventory Docker's own JSON gives, the
mounts under Docker's directory, an XFS's d_type, the space the export needs, and the comparisons
that prove nothing was lost. Pure: unit-tested on outputs captured in guests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The paths and names of docker_storage_migration, checked before anything is read
# (module_utils/inputs.py).
MIGRATION_INPUTS = (("backup_dir", "path"), ("docker_root", "path"), ("state_file", "path"),
                    ("config_paths", "path"), ("target_vg", "vg_name"), ("target_pool", "lv_name"),
                    ("staged_pool", "lv_name"), ("switch_remove", "path"),
                    ("daemon_config_path", "path"))
# Docker's own default when a container sets no stop timeout (docker stop without --time)
DEFAULT_STOP_SECONDS = 10


def image_inventory(inspected):
    """Tagged images from ``docker image inspect`` JSON: [{id, tags, size}], sorted by id.

    Untagged images are not exported (``docker save`` of an id alone loses nothing but makes
    an image nobody can name); they stay in the backup."""
    images = []
    for image in inspected:
        tags = sorted(t for t in (image.get("RepoTags") or []) if t and t != "<none>:<none>")
        if not tags:
            continue
        images.append({"id": image["Id"], "tags": tags, "size": int(image.get("Size") or 0)})
    return sorted(images, key=lambda i: i["id"])


def untagged_images(inspected):
    return sorted(i["Id"] for i in inspected
                  if not [t for t in (i.get("RepoTags") or []) if t != "<none>:<none>"])


def volume_inventory(inspected):
    """Volumes from ``docker volume inspect`` JSON: [{name, driver, mountpoint, labels, options,
    restorable}]. Only local volumes whose data lives under their mountpoint are carried over;
    a bind-style local volume (``device=`` option) points at data outside Docker's directory,
    which a migration does not move."""
    volumes = []
    for volume in inspected:
        options = volume.get("Options") or {}
        volumes.append({
            "name": volume["Name"], "driver": volume.get("Driver") or "local",
            "mountpoint": volume.get("Mountpoint") or "",
            "labels": volume.get("Labels") or {}, "options": options,
            "restorable": (volume.get("Driver") or "local") == "local" and "device" not in options,
        })
    return sorted(volumes, key=lambda v: v["name"])


def container_inventory(inspected):
    """[{id, name, image, running, stop_seconds}] by name; ``stop_seconds`` is the container's own
    stop timeout (``docker run --stop-timeout``), else Docker's default."""
    containers = []
    for c in inspected:
        config = c.get("Config") or {}
        timeout = config.get("StopTimeout")
        containers.append({"id": c["Id"], "name": (c.get("Name") or "").lstrip("/"),
                           "image": config.get("Image"),
                           "running": bool((c.get("State") or {}).get("Running")),
                           "stop_seconds": DEFAULT_STOP_SECONDS if timeout is None else int(timeout)})
    return sorted(containers, key=lambda c: c["name"])


def export_bytes(inventory):
    """Bytes the export needs: each image's unpacked size (``docker save`` writes its layers
    uncompressed). Volumes are not exported: they are carried after Docker stops."""
    return sum(i["size"] for i in inventory["images"])


def space_shortfalls(needs, free, margin_fraction=0.1, margin_bytes=64 * 1024 * 1024):
    """``needs`` and ``free`` map a filesystem (its mount point) to bytes. Returns the
    filesystems that lack room, with what they need (plus a margin) and have."""
    short = []
    for fs, need in sorted(needs.items()):
        wanted = int(need * (1 + margin_fraction)) + margin_bytes
        if free.get(fs, 0) < wanted:
            short.append({"filesystem": fs, "needed": wanted, "free": free.get(fs, 0)})
    return short


def compare_images(expected, actual):
    """Problems between the exported images and those Docker has after the import."""
    have = dict((i["id"], set(i["tags"])) for i in actual)
    problems = []
    for image in expected:
        if image["id"] not in have:
            problems.append("image %s (%s) is missing" % (image["id"], ", ".join(image["tags"])))
            continue
        missing = set(image["tags"]) - have[image["id"]]
        if missing:
            problems.append("image %s lacks tags %s" % (image["id"], ", ".join(sorted(missing))))
    return problems


def compare_files(name, expected, actual):
    """Problems between two {relative path: checksum} maps of one tree (``name``)."""
    problems = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            problems.append("%s: %s is missing" % (name, path))
        elif path not in expected:
            problems.append("%s: %s was not there before" % (name, path))
        elif expected[path] != actual[path]:
            problems.append("%s: %s differs (%s, was %s)"
                            % (name, path, actual[path], expected[path]))
    return problems


def target_reached(target, docker_driver, pool_backend):
    """Whether Docker already runs on what the migration would make."""
    if target == "overlay2":
        return docker_driver == "overlay2"
    if target == "direct_lvm":
        return docker_driver == "devicemapper" and pool_backend == "lvm"
    return False


def mounts_under(mount_points, root):
    """The mount points at or below ``root`` (a mount table's mount points, e.g.
    ``container_filesystems.mounts``), sorted. Anything there after Docker stopped is a container
    that still runs (live-restore), a leaked mount, or a filesystem that is not Docker's."""
    root = root.rstrip("/") or "/"
    return sorted(set(m for m in mount_points if m == root or m.startswith(root + "/")))


def xfs_ftype(xfs_info_text):
    """The ``ftype=`` of xfs_info's naming line (1: d_type, which overlay2 needs), or None."""
    for line in xfs_info_text.splitlines():
        if line.startswith("naming") and "ftype=" in line:
            return int(line.split("ftype=", 1)[1].split()[0].strip(","))
    return None


def carried_volume_problems(carried, present):
    """Problems between the volumes carried (name -> [st_dev, st_ino] of the data directory
    when carried) and what Docker shows after the start (name -> [st_dev, st_ino], None when
    Docker has no such volume): a carried volume is the same directory, not a copy."""
    problems = []
    for name, identity in sorted(carried.items()):
        now = present.get(name)
        if now is None:
            problems.append("volume %s is missing" % name)
        elif list(now) != list(identity):
            problems.append("volume %s is not the directory carried over (%s, was %s)"
                            % (name, now, identity))
    return problems
