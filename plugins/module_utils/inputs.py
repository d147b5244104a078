# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input, refused before anything is read: paths, sizes and names, one set of rules for every
module and (through the ``bad_input`` filter) every role.

Each rule gets the option's name as the user gave it (a module option, or a role variable) and
says what is wrong in a message that starts with that name: ``data_file: must be an absolute
path, got 'x'``. A module calls ``check_inputs`` first thing, so a refusal goes out through
``runners.exit_module`` with ``changed=false``.

Where the rules come from:

- device-mapper names: the kernel refuses a name with ``/`` and the names ``.``, ``..`` and
  ``control`` (``check_name`` in drivers/md/dm-ioctl.c); ``DM_NAME_LEN`` is 128 bytes with the
  terminating NUL (include/uapi/linux/dm-ioctl.h). No whitespace and no leading ``-`` are this
  collection's rules: dmsetup reads ``-x`` as an option, and ``dmsetup ls``/``table`` output is
  split at whitespace.
- LVM VG and LV names: lvm(8) "VALID NAMES" (characters ``a-z A-Z 0-9 + _ . -``, no leading
  ``-``, not ``.`` or ``..``, the reserved LV names and strings) and lib/misc/lvm-string.c of
  lvm2 (``_validate_name``: at most ``NAME_LEN`` 128 with the NUL; ``apply_lvname_restrictions``:
  LV names beginning ``pvmove`` or ``snapshot``, or holding a component suffix).
- pool sizes: a thin pool's block (chunk) is a multiple of 64 KiB from 64 KiB to 1 GiB (lvmthin(7),
  the kernel's thin-provisioning docs); its metadata is at least 2 MiB (the kernel's
  thin-provisioning docs round the metadata size up to 2MB; lvm2's
  DEFAULT_THIN_POOL_MIN_METADATA_SIZE); devices and loop files are whole 512-byte sectors.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    MAX_BLOCK_SECTORS,
    MIN_BLOCK_SECTORS,
    SECTOR,
    SizeError,
    human,
    parse_percent,
    parse_size,
)

DM_NAME_MAX = 127               # DM_NAME_LEN 128, with the NUL
DM_RESERVED = (".", "..", "control")
LVM_NAME_MAX = 127              # lvm2's NAME_LEN 128, with the NUL
LVM_NAME_RE = re.compile(r"[A-Za-z0-9+_.-]+\Z")
LV_RESERVED_PREFIXES = ("pvmove", "snapshot")
LV_RESERVED_STRINGS = ("_cdata", "_cmeta", "_corig", "_cpool", "_cvol", "_imeta", "_iorig",
                       "_mimage", "_mlog", "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta",
                       "_vdata", "_vorigin", "_wcorig")
MIN_POOL_BLOCK = MIN_BLOCK_SECTORS * SECTOR     # 64 KiB: the smallest block a pool can have
MIN_METADATA = 2 << 20                          # 2 MiB
DEFAULT_CHUNK = 512 << 10                       # the LVM chunk dm_thinpool uses by default


def _text(value):
    return value if isinstance(value, str) else None


def path_problem(value):
    text = _text(value)
    if not text or not text.startswith("/"):
        return "must be an absolute path, got %r" % (value,)
    return None


def dm_name_problem(value):
    text = _text(value)
    if not text:
        return "must be a device-mapper name, got %r" % (value,)
    if "/" in text:
        return "a device-mapper name cannot contain '/', got %r" % text
    if any(c.isspace() for c in text):
        return "a device-mapper name cannot contain whitespace, got %r" % text
    if text.startswith("-"):
        return "a device-mapper name cannot begin with '-' (dmsetup reads it as an option), " \
               "got %r" % text
    if text in DM_RESERVED:
        return "the kernel refuses the device-mapper names '.', '..' and 'control', got %r" % text
    if len(text.encode("utf-8")) > DM_NAME_MAX:
        return "a device-mapper name is at most %d bytes, got %d" % (
            DM_NAME_MAX, len(text.encode("utf-8")))
    return None


def optional_dm_name_problem(value):
    return None if value in (None, "") else dm_name_problem(value)


def _lvm_name_problem(value, what):
    text = _text(value)
    if not text:
        return "must be an LVM %s name, got %r" % (what, value)
    if text.startswith("-"):
        return "an LVM name cannot begin with '-', got %r" % text
    if text in (".", ".."):
        return "an LVM name cannot be '.' or '..', got %r" % text
    if not LVM_NAME_RE.match(text):
        return "an LVM name holds only the characters a-z A-Z 0-9 + _ . -, got %r" % text
    if len(text) > LVM_NAME_MAX:
        return "an LVM name is at most %d characters, got %d" % (LVM_NAME_MAX, len(text))
    return None


def vg_name_problem(value):
    return _lvm_name_problem(value, "volume group")


def lv_name_problem(value):
    problem = _lvm_name_problem(value, "logical volume")
    if problem:
        return problem
    for prefix in LV_RESERVED_PREFIXES:
        if value.startswith(prefix):
            return "LVM reserves LV names that begin with %r, got %r" % (prefix, value)
    for reserved in LV_RESERVED_STRINGS:
        if reserved in value:
            return "LVM reserves LV names that contain %r, got %r" % (reserved, value)
    return None


def vg_lv_problem(value):
    text = _text(value)
    if not text or text.count("/") != 1:
        return "give a pool as VG/LV, got %r" % (value,)
    vg, lv = text.split("/")
    problem = vg_name_problem(vg) or lv_name_problem(lv)
    return "%s (in %r)" % (problem, text) if problem else None


def file_name_problem(value):
    text = _text(value)
    if not text or "/" in text or text.startswith("."):
        return "must be a plain file name (no '/', not beginning with '.'), got %r" % (value,)
    return None


def _bytes(option, value):
    """(bytes, None) or (None, the problem); SizeError messages already name the option."""
    try:
        return parse_size(value, option), None
    except SizeError as exc:
        return None, str(exc)


def _size_problem(option, value, minimum=1, why=""):
    size, problem = _bytes(option, value)
    if problem:
        return problem
    if size == 0:
        return "%s: must be more than 0, got %r" % (option, value)
    if size % SECTOR:
        return "%s: %r is not a whole number of 512-byte sectors" % (option, value)
    if size < minimum:
        return "%s: %r is less than %s (%s)" % (option, value, human(minimum), why)
    return None


def block_size_problem(option, value):
    size, problem = _bytes(option, value)
    if problem:
        return problem
    if size < MIN_POOL_BLOCK or size > MAX_BLOCK_SECTORS * SECTOR or size % MIN_POOL_BLOCK:
        return "%s: must be a multiple of 64K from 64K to 1G, got %r" % (option, value)
    return None


def block_sectors_problem(option, value):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)      # a templated number, as Ansible before 2.19 hands it over
    if not isinstance(value, int) or isinstance(value, bool) or value < MIN_BLOCK_SECTORS or \
            value > MAX_BLOCK_SECTORS or value % MIN_BLOCK_SECTORS:
        return "%s: must be a multiple of %d sectors (64K) from %d to %d (1G), got %r" % (
            option, MIN_BLOCK_SECTORS, MIN_BLOCK_SECTORS, MAX_BLOCK_SECTORS, value)
    return None


def _block_bytes(block):
    """The pool block a data size must hold at least once; None when ``block`` is not one (its
    own rule says so)."""
    if block is None or block_size_problem("block", block):
        return None
    return parse_size(block)


def device_size_problem(option, value, block=None):
    return _size_problem(option, value)


def data_size_problem(option, value, block=None):
    """Pool data in bytes (a loop file, an LVM pool's data): at least one pool block, the smallest
    there is (64K) or ``block`` when it is known."""
    minimum = max(MIN_POOL_BLOCK, _block_bytes(block) or 0)
    return _size_problem(option, value, minimum, "one pool block")


def metadata_size_problem(option, value, block=None):
    return _size_problem(option, value, MIN_METADATA, "the smallest thin-pool metadata")


def percent_or(rule):
    """An LVM size: ``N%VG``, ``N%FREE`` or ``N%PVS`` (N more than 0, at most 100), else bytes by
    ``rule``."""
    def check(option, value, block=None):
        if not isinstance(value, str) or "%" not in value:
            return rule(option, value, block)
        try:
            if parse_percent(value, option) is None:
                return "%s: cannot read %r as a size or as N%%VG, N%%FREE or N%%PVS" \
                    % (option, value)
        except SizeError as exc:
            return str(exc)
        return None
    return check


NAME_RULES = {
    "path": path_problem,
    "dm_name": dm_name_problem,
    "optional_dm_name": optional_dm_name_problem,
    "vg_name": vg_name_problem,
    "lv_name": lv_name_problem,
    "vg_lv": vg_lv_problem,
    "file_name": file_name_problem,
}
SIZE_RULES = {
    "device_size": device_size_problem,
    "loop_data_size": data_size_problem,
    "loop_metadata_size": metadata_size_problem,
    "lvm_data_size": percent_or(data_size_problem),
    "lvm_metadata_size": percent_or(metadata_size_problem),
}
BLOCK_RULES = {"block_size": block_size_problem, "block_sectors": block_sectors_problem}
KINDS = sorted(set(NAME_RULES) | set(SIZE_RULES) | set(BLOCK_RULES))


def problem_of(option, kind, value, block=None):
    """What is wrong with one value (each element of a list), as a message naming ``option``;
    None when it is good. ``block``: the pool block a data size must hold at least once."""
    if isinstance(value, (list, tuple)):
        return next((p for p in (problem_of(option, kind, v, block) for v in value) if p), None)
    if kind in NAME_RULES:
        problem = NAME_RULES[kind](value)
        return "%s: %s" % (option, problem) if problem else None
    if kind in SIZE_RULES:
        return SIZE_RULES[kind](option, value, block)
    if kind in BLOCK_RULES:
        return BLOCK_RULES[kind](option, value)
    raise ValueError("%s: no rule for kind %r" % (option, kind))


def problems(inputs, values):
    """Every problem of ``values`` (option: value) by ``inputs``, a list of (option, kind) or
    (option, kind, block option); options whose value is None (not given) are left alone."""
    found = []
    for entry in inputs:
        option, kind = entry[0], entry[1]
        block = values.get(entry[2]) if len(entry) > 2 else None
        if values.get(option) is not None:
            problem = problem_of(option, kind, values[option], block)
            if problem:
                found.append(problem)
    return found


def check_inputs(params, inputs):
    """Refuses bad paths, sizes and names before anything is read (ModuleError naming each
    bad option first)."""
    found = problems(inputs, params)
    if found:
        raise ModuleError("; ".join(found))
    return params
