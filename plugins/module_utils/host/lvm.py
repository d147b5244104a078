# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LVM's reporting tools (lvs, vgs, pvs): the only place their command lines are built.

Every report is read as JSON with sizes in bytes, and answered as parsed rows (the values as LVM
printed them) or as the small dicts the planners work on. Used by: thinpool (the VG and LVs under
a pool), volume_group (PVs and the VG), lvm_thinpool_profile (one pool's profile and monitoring),
converged (pool attributes for the fast path), docker_storage_migration (the target VG).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    lvm_int,
    lvm_not_found,
    parse_lvm_report,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    CommandError,
    ToolRunner,
)

LVS = "lvs"
VGS = "vgs"
PVS = "pvs"
REPORT_OPTIONS = ["--reportformat", "json", "--units", "b", "--nosuffix"]
# report field -> key of the dict read_vg answers with (only the fields asked for appear)
VG_KEYS = (("vg_name", "name"), ("vg_size", "size"), ("vg_free", "free"),
           ("vg_extent_size", "extent_size"), ("vg_extent_count", "extent_count"),
           ("vg_free_count", "free_count"), ("pv_count", "pv_count"))


def parse_rows(text, kind):
    """Rows of a JSON report; a report that printed nothing (lvs failed for every name) has
    none."""
    return parse_lvm_report(text, kind) if text.strip() else []


def vg_summary(row):
    """A ``vgs`` row as {name, size, free, extent_size, ...}: numbers as ints, one key per field
    the report was asked for."""
    summary = {}
    for field, key in VG_KEYS:
        if field in row:
            summary[key] = row[field] if field == "vg_name" else lvm_int(row[field])
    return summary


def parse_vg(text):
    """``vgs`` JSON of one VG -> its summary, or None when the report has no row."""
    rows = parse_rows(text, "vg")
    return vg_summary(rows[0]) if rows else None


def parse_pvs(text):
    """``pvs`` JSON -> {pv path: vg name ('' for a PV in no VG)}."""
    return dict((row["pv_name"], row["vg_name"]) for row in parse_rows(text, "pv"))


class LvmReports(object):
    """Reads of LVM's metadata through lvs, vgs and pvs; nothing here changes the host."""

    def __init__(self, module):
        self.lvs_tool = ToolRunner(module, LVS)
        self.vgs_tool = ToolRunner(module, VGS)
        self.pvs_tool = ToolRunner(module, PVS)

    def lv_report(self, fields, names, all_lvs=False, check=True):
        """(rc, rows, stderr) of ``lvs`` for LVs or VGs ``names``. With check=False a name that
        does not exist makes rc non-zero while the rows of the others are still there."""
        args = (["-a"] if all_lvs else []) + REPORT_OPTIONS + ["-o", fields] + list(names)
        rc, out, err = self.lvs_tool.run(args, check=check)
        return rc, parse_rows(out, "lv"), err

    def read_vg(self, name, fields):
        """The summary of VG ``name`` (see ``vg_summary``), or None when there is no such VG."""
        rc, out, err = self.vgs_tool.run(REPORT_OPTIONS + ["-o", fields, name], check=False)
        if rc != 0:
            if lvm_not_found(out, err):
                return None
            raise CommandError(self.vgs_tool.argv([name]), rc, out, err)
        return parse_vg(out)

    def vg_exists(self, name):
        """Whether vgs knows VG ``name`` (any failure of vgs counts as no)."""
        if not name:
            return False
        rc, dummy, dummy = self.vgs_tool.run(REPORT_OPTIONS + ["-o", "vg_name", name], check=False)
        return rc == 0

    def pv_owners(self):
        """{pv path: vg name ('' for none)} of every PV on the host."""
        out = self.pvs_tool.run(REPORT_OPTIONS + ["-o", "pv_name,vg_name,pv_size"])[1]
        return parse_pvs(out)

    def pv_names(self, vg):
        """The PVs of VG ``vg``."""
        out = self.pvs_tool.run(REPORT_OPTIONS + ["-o", "pv_name", "-S", "vg_name=" + vg])[1]
        return [row["pv_name"] for row in parse_rows(out, "pv")]
