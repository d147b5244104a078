# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Docker that is not running (stopped, failed, or waiting behind docker.socket) keeps in
its root directory, read from the directory itself: asking ``docker info`` would start it.

Each storage driver keeps its image database under ROOT/image/DRIVER/imagedb/content/sha256
(one entry per image) and its layers under ROOT/DRIVER; containers are under ROOT/containers.
The devicemapper driver's metadata (ROOT/devicemapper/metadata) names a base device in the pool
it last ran on, and its own loop-lvm pool keeps its files in ROOT/devicemapper/devicemapper.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.daemon_config import read_config
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

DEFAULT_ROOT = "/var/lib/docker"
DRIVERS = ("overlay2", "overlay", "aufs", "btrfs", "zfs", "vfs", "fuse-overlayfs",
           "devicemapper")


def root_of(config):
    """Docker's root directory as daemon.json (``config``) sets it."""
    return (config or {}).get("data-root") or (config or {}).get("graph") or DEFAULT_ROOT


def configured_pool(config):
    """The pool daemon.json points the devicemapper driver at (dm.thinpooldev), or None."""
    for option in (config or {}).get("storage-opts") or []:
        if str(option).startswith("dm.thinpooldev="):
            return str(option).split("=", 1)[1].rsplit("/", 1)[-1]
    return None


def _entries(path):
    try:
        return len(os.listdir(path))
    except OSError:
        return 0


def read_root(root):
    """{root, images: {driver: count}, containers, dm_metadata, dm_loop_files} of ``root``."""
    images = {}
    for driver in DRIVERS:
        count = _entries(os.path.join(root, "image", driver, "imagedb", "content", "sha256"))
        if count:
            images[driver] = count
    dm = os.path.join(root, "devicemapper")
    return {"root": root, "images": images,
            "containers": _entries(os.path.join(root, "containers")),
            "dm_metadata": os.path.exists(os.path.join(dm, "metadata", "deviceset-metadata")),
            "dm_loop_files": os.path.exists(os.path.join(dm, "devicemapper", "data"))}


def offline_conflict(found, config, driver, pool):
    """What pointing a Docker that is not running at ``driver`` (and ``pool``) would cost, from
    its root (``found``, read_root's) and daemon.json (``config``), as storage_conflict says it
    for a running one; None when nothing."""
    others = dict((d, n) for d, n in found["images"].items() if d != driver)
    if others:
        held = ", ".join("%d images of the %s driver" % (n, d) for d, n in sorted(others.items()))
        return {"kind": "driver",
                "reason": "Docker is not running, and %s holds %s (and %d containers); "
                          "switching it to %s would hide them all"
                          % (found["root"], held, found["containers"], driver)}
    if driver == "devicemapper" and pool and found["dm_metadata"]:
        before = configured_pool(config)
        if before is None and found["dm_loop_files"]:
            before = "Docker's own loop-lvm pool (files in %s/devicemapper/devicemapper)" \
                % found["root"]
        if before and before != pool:
            return {"kind": "pool",
                    "reason": "Docker is not running; its devicemapper metadata in %s/devicemapper "
                              "belongs to %s, with %d images and %d containers; pointing it at "
                              "pool %s would hide them, and dockerd would not start on it"
                              % (found["root"], before, found["images"].get("devicemapper", 0),
                                 found["containers"], pool)}
    return None


def read_offline(config_path):
    """(read_root of the root daemon.json names, daemon.json's object). A file that is not a JSON
    object reads as {}: the role's daemon.json task says what is wrong with it."""
    try:
        config = read_config(config_path)["config"]
    except ModuleError:
        config = {}
    return read_root(root_of(config)), config
