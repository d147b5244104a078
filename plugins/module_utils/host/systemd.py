# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd's units (systemctl): the only place its command lines are built.

Used by: converged (unit states for the fast path), docker_engine (whether Docker's unit is
active), docker_storage_migration (holding Docker stopped, bringing a pool and Docker back).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.runners import ToolRunner

SYSTEMCTL = "systemctl"


def parse_show(text, units):
    """``systemctl show UNIT...`` -> {unit: {property: value}}. systemd prints one block a unit,
    in the order asked (an unknown unit gets one too), so a unit given without its .service
    suffix is still found; {} when the blocks do not match the units asked."""
    blocks = [dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
              for block in text.strip().split("\n\n")]
    if len(blocks) != len(units):
        return {}
    return dict(zip(units, blocks))


class Systemd(object):
    def __init__(self, module):
        self.systemctl = ToolRunner(module, SYSTEMCTL)

    def show(self, units, properties):
        """{unit: {property: value}} of ``units`` (see ``parse_show``)."""
        dummy, out, dummy = self.systemctl.run(
            ["show", "--property=" + ",".join(properties)] + list(units), check=False)
        return parse_show(out, units)

    def cat(self, unit):
        """``systemctl cat UNIT``: the unit file and its drop-ins, each after a ``# /path`` line
        ("" when systemd has no such unit)."""
        rc, out, dummy = self.systemctl.run(["cat", unit], check=False)
        return out if rc == 0 else ""

    def is_active(self, unit):
        rc, dummy, dummy = self.systemctl.run(["is-active", "--quiet", unit], check=False)
        return rc == 0

    def unmask(self, units, reload=True):
        """``reload``: let systemctl reload the manager after it (its default). (Masks are left
        by earlier releases' migrations; this one holds Docker with a drop-in.)"""
        self.systemctl.run(["unmask"] + ([] if reload else ["--no-reload"]) + list(units))

    def stop(self, units):
        self.systemctl.run(["stop"] + list(units))

    def start(self, unit):
        self.systemctl.run(["start", unit])

    def restart(self, unit):
        self.systemctl.run(["restart", unit])

    def daemon_reload(self):
        self.systemctl.run(["daemon-reload"])
