# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loop devices (losetup): the only place its command lines are built.

Used by: loop_files (the loop pool's backing files), docker_storage_migration (detaching a
released loop pool's devices).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    parse_losetup_json,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ToolRunner,
)

LOSETUP = "losetup"


def backing_files(text):
    """``losetup --json --list --output NAME,BACK-FILE`` -> {real path of backing file: loop
    device}; a file deleted while attached is left out."""
    found = {}
    for row in parse_losetup_json(text):
        back = (row.get("back-file") or "").strip()
        if back.endswith(" (deleted)"):
            continue
        found.setdefault(os.path.realpath(back), row["name"])
    return found


class LoopDevices(object):
    def __init__(self, module):
        self.losetup = ToolRunner(module, LOSETUP)

    def associations(self):
        """{real path of backing file: loop device} for every attached loop device."""
        out = self.losetup.run(["--json", "--list", "--output", "NAME,BACK-FILE"])[1]
        return backing_files(out)

    def detach_now(self, loop):
        """Detach ``loop``; a device already gone is not an error."""
        self.losetup.run(["--detach", loop], check=False)

    # ---- actions -------------------------------------------------------------------------------
    def attach(self, path, why):
        return Action(self.losetup, ["--find", "--show", path], why)

    def set_capacity(self, loop, why):
        return Action(self.losetup, ["--set-capacity", loop], why)

    def detach(self, loop, why):
        return Action(self.losetup, ["--detach", loop], why)
