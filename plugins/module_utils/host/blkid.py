# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a block device carries and where it is mounted (blkid, lsblk, findmnt): the only place
their command lines are built.

``probe`` answers blkid's low-level probe as {KEY: value}; ``signatures`` turns that into the
readable strings refusals quote. Used by: thinpool (signature of a raw pool's devices),
volume_group (what a device to make a PV carries), dm_base_device (the base device's filesystem).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    parse_blkid_export,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    CommandError,
    ToolRunner,
)

BLKID = "blkid"
LSBLK = "lsblk"
FINDMNT = "findmnt"
NOTHING_FOUND = 2       # blkid's exit status when a device carries no signature
# blkid -p exits 8 when it finds more than one signature and cannot tell which counts
# ("ambivalent result"); that is a device with data, not an empty one
AMBIVALENT = 8
AMBIVALENT_TYPE = "more than one signature (blkid -p: ambivalent result; wipefs -n lists them)"


def signatures(fields):
    """blkid's {KEY: value} -> readable signatures, e.g. ['xfs filesystem',
    'dos partition table', 'LVM2_member']."""
    found = []
    if fields.get("PTTYPE"):
        found.append("%s partition table" % fields["PTTYPE"])
    if fields.get("TYPE"):
        usage = fields.get("USAGE", "")
        found.append("%s %s" % (fields["TYPE"], usage) if usage == "filesystem"
                     else fields["TYPE"])
    return found


def mounted_in_lsblk(text):
    """Mount points (and '[SWAP]') of a device and everything on it, from ``lsblk --json``."""
    found = []

    def walk(nodes):
        for node in nodes or []:
            if node.get("mountpoint"):
                found.append("%s on %s" % (node["name"], node["mountpoint"]))
            walk(node.get("children"))
    walk(json.loads(text).get("blockdevices"))
    return found


class BlockDevices(object):
    def __init__(self, module):
        self.blkid = ToolRunner(module, BLKID)
        self.lsblk = ToolRunner(module, LSBLK)
        self.findmnt = ToolRunner(module, FINDMNT)

    def probe(self, path, strict=False):
        """``blkid -p`` (low level: partition tables too) of ``path`` as {KEY: value}; {} when it
        carries nothing, TYPE AMBIVALENT_TYPE when it carries several signatures. A failure of
        blkid itself counts as nothing found, unless ``strict``."""
        args = ["-p", "-o", "export", path]
        rc, out, err = self.blkid.run(args, check=False)
        if rc == AMBIVALENT:
            return {"TYPE": AMBIVALENT_TYPE}
        if strict and rc not in (0, NOTHING_FOUND):
            raise CommandError(self.blkid.argv(args), rc, out, err)
        return parse_blkid_export(out) if rc == 0 else {}

    def mounted(self, path):
        """What of ``path`` and the devices on it is mounted ("DEV on MOUNTPOINT")."""
        out = self.lsblk.run(["--json", "--paths", "--output", "NAME,MOUNTPOINT", path])[1]
        return mounted_in_lsblk(out)

    def mountpoint(self, device):
        """Where ``device`` is mounted (the first place), or None."""
        rc, out, dummy = self.findmnt.run(["-n", "-o", "TARGET", "--source", device],
                                          check=False)
        return out.splitlines()[0].strip() if rc == 0 and out.strip() else None
