# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filesystem on a base thin device: formatted once, grown with the device.

``plan_filesystem`` is pure: it gets what blkid found on the device, whether the device grew,
how much of the device the filesystem spans (dumpe2fs, xfs_db, or xfs_info when mounted) and
where it is mounted, and returns the actions (``FilesystemTools`` holds their runners). Comparing
the spans, not only "the device grew in this run", grows a filesystem that an earlier run left
smaller than its device (the device grown, the run stopped before the filesystem).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

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
        self.dumpe2fs = ToolRunner(module, "dumpe2fs")
        self.xfs_db = ToolRunner(module, "xfs_db")
        self.xfs_info = ToolRunner(module, "xfs_info")

    def mkfs(self, fs_type):
        return ToolRunner(self.module, "mkfs." + fs_type)

    def span(self, device, fs_type, mountpoint=None):
        """``parse_span`` of the filesystem's superblock (read only); None for another type. A
        mounted XFS is asked through its mount point: its superblock on the device lags behind
        a grow until the log is written back (xfs_db read the size before xfs_growfs there)."""
        if fs_type == "ext4":
            dummy, out, dummy = self.dumpe2fs.run(["-h", device])
        elif fs_type == "xfs" and mountpoint:
            dummy, out, dummy = self.xfs_info.run([mountpoint])
            fs_type = "xfs_info"
        elif fs_type == "xfs":
            dummy, out, dummy = self.xfs_db.run(["-r", "-c", "sb 0", "-c", XFS_SPAN, device])
        else:
            return None
        return parse_span(fs_type, out)


# the superblock fields that give a filesystem's span: blocks, block size, blocks per group
# (ext4's block group, XFS's allocation group: a grow adds whole groups, and a last part too
# small for one may be left out, so only a shortfall of a group or more is one to grow into)
XFS_SPAN = "print dblocks blocksize agblocks"
SPAN_FIELDS = {"ext4": ("Block count", "Block size", "Blocks per group"),
               "xfs": ("dblocks", "blocksize", "agblocks"),
               "xfs_info": ("data blocks", "data bsize", "agsize")}
XFS_INFO_FIELD = re.compile(r"(agsize|bsize|blocks)=(\d+)")


def _xfs_info_fields(text):
    """xfs_info's ``agsize=`` (meta-data line) and the data section's ``bsize=``/``blocks=``."""
    values = {}
    for line in text.splitlines():
        section = line.split("=", 1)[0].strip()
        for key, value in XFS_INFO_FIELD.findall(line):
            if key == "agsize" and section == "meta-data":
                values["agsize"] = int(value)
            elif section == "data" and key != "agsize":
                values["data " + key] = int(value)
    return values


def _named_fields(text, separator, names):
    """``name<separator> value`` lines (dumpe2fs -h: ``:``; xfs_db's print: ``=``) of ``names``."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(separator)
        if sep and key.strip() in names:
            values[key.strip()] = int(value.strip())
    return values


def parse_span(form, text):
    """{fs_bytes, group_bytes} from ``dumpe2fs -h`` (``form`` ext4), xfs_db's print (xfs) or
    xfs_info (xfs_info)."""
    if form == "xfs_info":
        values = _xfs_info_fields(text)
    else:
        values = _named_fields(text, ":" if form == "ext4" else "=", SPAN_FIELDS[form])
    count, size, group = SPAN_FIELDS[form]
    missing = [field for field in SPAN_FIELDS[form] if field not in values]
    if missing:
        raise ModuleError("cannot read the %s filesystem's size: no %s in its superblock"
                          % (form, ", ".join(missing)))
    return {"fs_bytes": values[count] * values[size], "group_bytes": values[group] * values[size]}


def short_of(span, device_bytes):
    """Bytes of the device the filesystem leaves out, when a grow would add at least a group."""
    if not span or not device_bytes:
        return 0
    missing = device_bytes - span["fs_bytes"]
    return missing if missing >= span["group_bytes"] else 0


def read_filesystem(block, device, active, tools, fs_type):
    """{fs, mountpoint, span} of ``device`` as blkid, findmnt and its superblock (``tools``,
    FilesystemTools) see it ({}, None and None while it is not active). The span is read only
    of a filesystem of the wanted ``fs_type``: the only one a run may grow."""
    fs = block.probe(device) if active else {}
    mountpoint = block.mountpoint(device) if active else None
    span = tools.span(device, fs_type, mountpoint) if fs.get("TYPE") == fs_type else None
    return {"fs": fs, "mountpoint": mountpoint, "span": span}


def plan_filesystem(io, params, fs, grew, mountpoint, span=None, device_bytes=None):
    """Phase 2: format once, or grow the filesystem with the device (the device grew in this
    run, or the filesystem ``span`` leaves out a group or more of ``device_bytes``)."""
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
    missing = 0 if grew else short_of(span, device_bytes)
    if not grew and not missing:
        return []
    why = "grow the filesystem with the device" if grew else (
        "grow the filesystem to its device (%d bytes of it unused: the device was grown "
        "without it)" % missing)
    if fs_type == "ext4":
        steps = []
        if not mountpoint:
            steps.append(Action(io.e2fsck, ["-f", "-p", device],
                                "check the filesystem, as resize2fs requires offline"))
        steps.append(Action(io.resize2fs, [device], why))
        return steps
    growfs = io.xfs_growfs
    if mountpoint:
        return [Action(growfs, [mountpoint], why)]
    temp = "/run/devmapper-storage/grow-" + params["name"]
    # mount --mkdir needs util-linux 2.38 (bookworm); bullseye has 2.36
    return [Action(io.mkdir, ["-p", temp], "make a mount point"),
            Action(io.mount, ["-o", "nouuid", device, temp],
                   "mount it (XFS grows only while mounted)"),
            Action(growfs, [temp], why),
            Action(io.umount, [temp], "unmount it again")]


def plan_found_filesystem(io, params, grew, device_bytes, found):
    """``plan_filesystem`` on what ``read_filesystem`` found."""
    return plan_filesystem(io, params, found["fs"], grew, found["mountpoint"], found["span"],
                           device_bytes)
