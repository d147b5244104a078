# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers of what dmsetup, the LVM tools, losetup, thin_ls and blkid print.

No I/O here: every function takes the text a command printed (in the C locale) and returns plain
data, so that each is unit-tested on outputs captured from a real kernel (tests/unit/fixtures).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.devmapper.storage.plugins.module_utils.sizes import SECTOR

NO_DEVICES = "No devices found"
METADATA_BLOCK_BYTES = 4096     # dm-thin metadata blocks are always 4 KiB


class ParseError(ValueError):
    """Output that does not have the shape the parser knows."""


def split_dmsetup_lines(text):
    """``dmsetup status|table`` for all devices prefix each line with ``name: ``; for one device
    they do not. Returns a list of (name or None, line), one per target line."""
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == NO_DEVICES:
            continue
        head, sep, rest = line.partition(": ")
        if sep and not head[:1].isdigit():
            lines.append((head, rest.strip()))
        else:
            lines.append((None, line))
    return lines


def parse_dmsetup_ls(text):
    """``dmsetup ls`` -> {name: (major, minor)}"""
    devices = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == NO_DEVICES:
            continue
        name, numbers = line.rpartition("\t")[::2]
        if not name:
            name, numbers = line.rpartition(" ")[::2]
        major, minor = numbers.strip("()").partition(":")[::2]
        devices[name.strip()] = (int(major), int(minor))
    return devices


INFO_COLUMNS = ("name", "uuid", "blkdevname", "major", "minor", "attr", "open", "segments",
                "events")


def parse_dmsetup_info_columns(text, columns=INFO_COLUMNS, separator=":"):
    """``dmsetup info -c --noheadings --separator : -o <columns>`` -> {name: {column: value}}.

    The attr column reads e.g. ``L--w``: live table, inactive table, suspended, read-only/writable;
    it is decoded into booleans."""
    devices = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == NO_DEVICES:
            continue
        values = line.split(separator)
        if len(values) != len(columns):
            raise ParseError("dmsetup info: expected %d columns, got %d in %r"
                             % (len(columns), len(values), line))
        row = dict(zip(columns, values))
        for key in ("major", "minor", "open", "segments", "events"):
            if key in row:
                row[key] = int(row[key])
        attr = row.get("attr")
        if attr:
            row["live"] = attr[0] == "L"
            row["inactive_table"] = attr[1] == "I"
            row["suspended"] = attr[2] == "s"
            row["read_only"] = attr[3] == "r"
        devices[row["name"]] = row
    return devices


def _fraction(text, what):
    used, sep, total = text.partition("/")
    if not sep:
        raise ParseError("%s: expected USED/TOTAL, got %r" % (what, text))
    return int(used), int(total)


def parse_thin_pool_table(line):
    """One thin-pool table line: ``START LEN thin-pool META DATA BLOCK LOW_WATER N FEATURES...``"""
    words = line.split()
    if len(words) < 8 or words[2] != "thin-pool":
        raise ParseError("not a thin-pool table line: %r" % line)
    count = int(words[7])
    features = words[8:8 + count]
    return {
        "start": int(words[0]),
        "length_sectors": int(words[1]),
        "metadata_dev": words[3],
        "data_dev": words[4],
        "block_sectors": int(words[5]),
        "low_water_mark": int(words[6]),
        "features": features,
        "skip_block_zeroing": "skip_block_zeroing" in features,
        "ignore_discard": "ignore_discard" in features,
        "no_discard_passdown": "no_discard_passdown" in features,
        "read_only": "read_only" in features,
        "error_if_no_space": "error_if_no_space" in features,
    }


def parse_thin_table(line):
    """One thin table line: ``START LEN thin POOL_DEV DEV_ID [EXTERNAL_ORIGIN]``"""
    words = line.split()
    if len(words) < 5 or words[2] != "thin":
        raise ParseError("not a thin table line: %r" % line)
    return {"start": int(words[0]), "length_sectors": int(words[1]), "pool_dev": words[3],
            "device_id": int(words[4]),
            "external_origin": words[5] if len(words) > 5 else None}


class ThinPoolStatus(object):
    """``dmsetup status`` of a thin-pool target (kernel Documentation/admin-guide/device-mapper/
    thin-provisioning.rst): transaction id, metadata and data usage, held root, mode and flags."""

    def __init__(self, line, block_sectors=None):
        words = line.split()
        if len(words) < 4 or words[2] != "thin-pool":
            raise ParseError("not a thin-pool status line: %r" % line)
        self.length_sectors = int(words[1])
        self.failed = words[3] == "Fail"
        self.block_sectors = block_sectors
        self.transaction_id = None
        self.metadata_used = self.metadata_total = None
        self.data_used = self.data_total = None
        self.held_root = None
        self.mode = "failed" if self.failed else None
        self.discard_passdown = None
        self.error_if_no_space = None
        self.needs_check = False
        self.metadata_low_watermark = None
        if self.failed:
            return
        if len(words) < 8:
            raise ParseError("thin-pool status too short: %r" % line)
        self.transaction_id = int(words[3])
        self.metadata_used, self.metadata_total = _fraction(words[4], "metadata blocks")
        self.data_used, self.data_total = _fraction(words[5], "data blocks")
        self.held_root = None if words[6] == "-" else int(words[6])
        self.mode = words[7]            # rw, ro or out_of_data_space
        for word in words[8:]:
            if word in ("discard_passdown", "no_discard_passdown"):
                self.discard_passdown = word == "discard_passdown"
            elif word in ("error_if_no_space", "queue_if_no_space"):
                self.error_if_no_space = word == "error_if_no_space"
            elif word == "needs_check":
                self.needs_check = True
            elif word.isdigit():
                self.metadata_low_watermark = int(word)

    @property
    def read_only(self):
        return self.mode == "ro"

    @property
    def out_of_data_space(self):
        return self.mode == "out_of_data_space"

    @staticmethod
    def _percent(used, total):
        if not total:
            return None
        return round(100.0 * used / total, 2)

    def to_dict(self):
        result = {
            "failed": self.failed,
            "transaction_id": self.transaction_id,
            "mode": self.mode,
            "read_only": self.read_only,
            "out_of_data_space": self.out_of_data_space,
            "needs_check": self.needs_check,
            "discard_passdown": self.discard_passdown,
            "error_if_no_space": self.error_if_no_space,
            "held_metadata_root": self.held_root,
            "metadata_low_watermark": self.metadata_low_watermark,
            "metadata_used_blocks": self.metadata_used,
            "metadata_total_blocks": self.metadata_total,
            "data_used_blocks": self.data_used,
            "data_total_blocks": self.data_total,
            "metadata_used_percent": None,
            "data_used_percent": None,
        }
        if self.failed:
            return result
        result["metadata_used_bytes"] = self.metadata_used * METADATA_BLOCK_BYTES
        result["metadata_total_bytes"] = self.metadata_total * METADATA_BLOCK_BYTES
        result["metadata_used_percent"] = self._percent(self.metadata_used, self.metadata_total)
        result["data_used_percent"] = self._percent(self.data_used, self.data_total)
        if self.block_sectors:
            block = self.block_sectors * SECTOR
            result["block_bytes"] = block
            result["data_used_bytes"] = self.data_used * block
            result["data_total_bytes"] = self.data_total * block
        return result


def parse_thin_status(line):
    """``dmsetup status`` of a thin target: mapped sectors and highest mapped sector."""
    words = line.split()
    if len(words) < 4 or words[2] != "thin":
        raise ParseError("not a thin status line: %r" % line)
    if words[3] == "Fail":
        return {"failed": True, "mapped_sectors": None, "highest_mapped_sector": None}
    highest = words[4] if len(words) > 4 else "-"
    return {"failed": False, "mapped_sectors": int(words[3]),
            "mapped_bytes": int(words[3]) * SECTOR,
            "highest_mapped_sector": None if highest == "-" else int(highest)}


def parse_lvm_report(text, kind):
    """``lvs|vgs|pvs --reportformat json`` -> list of row dicts (values as LVM printed them).

    ``kind`` is the report's key: ``lv``, ``vg``, ``pv`` or ``seg``."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ParseError("LVM JSON report unreadable: %s" % exc)
    rows = []
    for report in document.get("report", []):
        rows.extend(report.get(kind, []))
    return rows


def lvm_not_found(stdout, stderr):
    """Whether an LVM JSON report that failed said its VG/LV does not exist: lvm2 up to 2.03.16
    says so on stderr, 2.03.31 (trixie) only in the report's own ``log`` on stdout."""
    if "not found" in stderr:
        return True
    try:
        document = json.loads(stdout)
    except ValueError:
        return False
    return any(entry.get("log_type") == "error" and "not found" in entry.get("log_message", "")
               for entry in document.get("log", []))


def lvm_int(value):
    """An LVM number printed with ``--units b --nosuffix`` (empty when not applicable)."""
    if value in (None, ""):
        return None
    return int(float(value))


def lvm_float(value):
    if value in (None, ""):
        return None
    return float(value)


def parse_losetup_json(text):
    """``losetup --json --list`` -> list of dicts; no loop devices prints nothing at all."""
    if not text.strip():
        return []
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ParseError("losetup JSON unreadable: %s" % exc)
    return document.get("loopdevices", [])


def parse_blkid_export(text):
    """``blkid -p -o export DEV`` -> {KEY: value}; blkid exits 2 and prints nothing when the device
    carries no signature, which gives {}."""
    result = {}
    for raw in text.splitlines():
        key, sep, value = raw.partition("=")
        if not sep:
            continue
        result[key.strip()] = value.replace("\\ ", " ")
    return result


def parse_thin_ls(text):
    """``thin_ls -o COL,...`` -> list of {column: int or str}, one per thin device."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    rows = []
    for words in lines[1:]:
        if len(words) != len(header):
            raise ParseError("thin_ls: row %r does not match header %r" % (words, header))
        rows.append({col.lower(): int(val) if val.isdigit() else val
                     for col, val in zip(header, words)})
    return rows
