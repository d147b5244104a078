# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Size arithmetic in one place: byte sizes with binary units, 512-byte sectors, LVM percentage
sizes (%VG, %FREE, %PVS), rounding to extents and pool blocks, and thin device ids."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SECTOR = 512
UNITS = {"": 1, "B": 1, "S": SECTOR, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40,
         "P": 1 << 50}
MAX_THIN_ID = (1 << 24) - 1     # thin device ids are 24-bit
MIN_BLOCK_SECTORS = 128         # 64 KiB
MAX_BLOCK_SECTORS = 2097152     # 1 GiB

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bBsSkKmMgGtTpP]?)(?:i?[bB])?\s*$")
_PERCENT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)%(VG|FREE|PVS)\s*$", re.IGNORECASE)


class SizeError(ValueError):
    pass


def parse_size(value, what="size"):
    """'10G', '512M', '64k', '2048s' (sectors), '1.5G', 4096 -> bytes (binary units)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise SizeError("%s: must not be negative, got %d" % (what, value))
        return value
    match = _SIZE_RE.match(str(value))
    if not match:
        raise SizeError("%s: cannot read %r as a size; use a number with an optional unit "
                        "B, s (512-byte sectors), K, M, G, T or P (powers of 1024)" % (what, value))
    number, unit = match.groups()
    size = float(number) * UNITS[unit.upper()]
    if size != int(size):
        raise SizeError("%s: %r is not a whole number of bytes" % (what, value))
    return int(size)


def parse_percent(value, what="size"):
    """'95%VG' -> (95.0, 'VG'); None when ``value`` is not a percentage size."""
    match = _PERCENT_RE.match(str(value))
    if not match:
        return None
    percent = float(match.group(1))
    base = match.group(2).upper()
    if not 0 < percent <= 100:
        raise SizeError("%s: a percentage size must be more than 0 and at most 100, got %r"
                        % (what, value))
    return percent, base


def round_up(value, unit):
    return -(-value // unit) * unit


def round_down(value, unit):
    return value // unit * unit


def to_sectors(size_bytes, what="size"):
    if size_bytes % SECTOR:
        raise SizeError("%s: %d bytes is not a whole number of 512-byte sectors"
                        % (what, size_bytes))
    return size_bytes // SECTOR


def percent_to_extents(percent, base, vg):
    """Extents an LVM percentage size means, the way lvcreate -l reads it. ``vg`` gives
    extent_count, free_count and (for PVS) pvs_extent_count."""
    total = {"VG": vg["extent_count"], "FREE": vg["free_count"],
             "PVS": vg.get("pvs_extent_count", vg["extent_count"])}[base]
    return int(total * percent // 100)


def validate_block_sectors(sectors, what="block size"):
    if sectors < MIN_BLOCK_SECTORS or sectors > MAX_BLOCK_SECTORS or sectors % MIN_BLOCK_SECTORS:
        raise SizeError("%s: must be a multiple of 64K between 64K and 1G, got %d bytes"
                        % (what, sectors * SECTOR))
    return sectors


def validate_thin_id(value, what="device_id"):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_THIN_ID:
        raise SizeError("%s: must be an integer from 0 to %d (thin ids are 24-bit), got %r"
                        % (what, MAX_THIN_ID, value))
    return value


def rounded(size_bytes):
    """A measured size for people, one decimal in the largest unit: 5312345088 -> '4.9G'."""
    for unit in ("P", "T", "G", "M", "K"):
        if size_bytes >= UNITS[unit]:
            return "%.1f%s" % (size_bytes / float(UNITS[unit]), unit)
    return "%dB" % size_bytes


def human(size_bytes):
    """Shortest exact binary form: 536870912 -> '512M'."""
    for unit in ("P", "T", "G", "M", "K"):
        if size_bytes and size_bytes % UNITS[unit] == 0:
            return "%d%s" % (size_bytes // UNITS[unit], unit)
    return "%dB" % size_bytes
