# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filesystem on a base thin device: formatted once, grown with the device.

``plan_filesystem`` is pure: it gets what blkid found on the device, whether the device grew and
where it is mounted, and returns the actions (``FilesystemTools`` holds their runners).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
)

EXT4_MKFS = ["-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0"]


class FilesystemTools(object):
    """The runners of the filesystem actions (nothing runs until a plan is applied)."""

    def __init__(self, module):
        self.module = module
        self.tune2fs = ToolRunner(module, "tune2fs")
        self.e2fsck = ToolRunner(module, "e2fsck")
        self.resize2fs = ToolRunner(module, "resize2fs")
        self.xfs_growfs = ToolRunner(module, "xfs_growfs")
        self.mount = ToolRunner(module, "mount")
        self.mkdir = ToolRunner(module, "mkdir")
        self.umount = ToolRunner(module, "umount")

    def mkfs(self, fs_type):
        return ToolRunner(self.module, "mkfs." + fs_type)


def read_filesystem(block, device, active):
    """{fs, mountpoint} of ``device`` as blkid and findmnt see it ({} and None while it is not
    active)."""
    return {"fs": block.probe(device) if active else {},
            "mountpoint": block.mountpoint(device) if active else None}


def plan_filesystem(io, params, fs, grew, mountpoint):
    """Phase 2: format once, or grow the filesystem with the device."""
    device = "/dev/mapper/" + params["name"]
    fs_type = params["fs_type"]
    found = fs.get("TYPE")
    mkfs = io.mkfs(fs_type)
    if found and found != fs_type and not params["force"]:
        raise ModuleError("fs_type: %s already holds a %s filesystem; set force=true to "
                          "reformat it as %s (its data is lost)" % (device, found, fs_type))
    if not found or found != fs_type:
        if fs_type == "ext4":
            return [Action(mkfs, ["-q"] + EXT4_MKFS + (["-F"] if found else []) + [device],
                           "make an ext4 filesystem as Docker's driver did"),
                    Action(io.tune2fs, ["-c", "-1", "-i", "0", device],
                           "turn off periodic fsck")]
        # -K: do not discard blocks at mkfs time (a thin device has none allocated anyway)
        return [Action(mkfs, ["-q", "-K"] + (["-f"] if found else []) + [device],
                       "make an XFS filesystem")]
    if not grew:
        return []
    if fs_type == "ext4":
        steps = []
        if not mountpoint:
            steps.append(Action(io.e2fsck, ["-f", "-p", device],
                                "check the filesystem, as resize2fs requires offline"))
        steps.append(Action(io.resize2fs, [device],
                            "grow the filesystem with the device"))
        return steps
    growfs = io.xfs_growfs
    if mountpoint:
        return [Action(growfs, [mountpoint], "grow the filesystem with the device")]
    temp = "/run/devmapper-storage/grow-" + params["name"]
    # mount --mkdir needs util-linux 2.38 (bookworm); bullseye has 2.36
    return [Action(io.mkdir, ["-p", temp], "make a mount point"),
            Action(io.mount, ["-o", "nouuid", device, temp],
                   "mount it (XFS grows only while mounted)"),
            Action(growfs, [temp], "grow the filesystem with the device"),
            Action(io.umount, [temp], "unmount it again")]


def plan_found_filesystem(io, params, grew, found):
    """``plan_filesystem`` on what ``read_filesystem`` found."""
    return plan_filesystem(io, params, found["fs"], grew, found["mountpoint"])
