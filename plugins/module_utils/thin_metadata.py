# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin pool's metadata as its device holds it: the superblock's flags and the thin ids of the
last committed transaction, read without a word to the pool.

thin_ls cannot read the metadata of a live pool (the kernel holds the device exclusively) except
through a metadata snapshot, which takes two messages to the pool, each a transaction of its
metadata; a run killed between them leaves the snapshot held. The kernel writes a transaction's
btree nodes to new blocks and the superblock last (copy on write), so the tree the superblock
names is whole until the next commit: it is read here with O_DIRECT (the kernel's writes do
not go through the device's page cache) and taken only when the superblock is the same after
the walk. Layout: linux drivers/md/dm-thin-metadata.c and persistent-data/dm-btree-internal.h.

The parsers are pure: they get blocks as bytes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import mmap
import os
import struct

try:
    from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
except ImportError:
    # the pool_metrics role's collector imports this file on its own, on a host with no
    # Ansible; its errors are then plain exceptions
    ModuleError = RuntimeError

BLOCK = 4096
THIN_SUPERBLOCK_MAGIC = 27022010
SUPERBLOCK_CSUM_XOR = 160774
BTREE_CSUM_XOR = 121107
NEEDS_CHECK_FLAG = 1
INTERNAL_NODE, LEAF_NODE = 1, 2
NODE_HEADER = struct.Struct("<IIQIIII")     # csum flags blocknr nr_entries max_entries value_size pad
DEVICE_DETAILS_ROOT = 328                   # offset of the superblock's device_details_root


class MetadataError(Exception):
    """A block that is not what the tree says it is (damaged, or rewritten while read)."""


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for dummy in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC32C_TABLE = _crc32c_table()


def block_checksum(block, xor):
    """dm-persistent-data's checksum of a block: crc32c over all but its first 4 bytes, from an
    all-ones seed with no final inversion, xor'd with the block kind's constant."""
    crc = 0xFFFFFFFF
    table = CRC32C_TABLE
    for byte in bytearray(block[4:]):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ xor


def parse_superblock(block):
    """{needs_check, details_root, checksum_ok} of a thin-pool superblock; None when the block
    holds no thin-pool superblock (no magic)."""
    if len(block) < BLOCK or struct.unpack_from("<Q", block, 32)[0] != THIN_SUPERBLOCK_MAGIC:
        return None
    csum, flags = struct.unpack_from("<II", block, 0)
    return {"needs_check": bool(flags & NEEDS_CHECK_FLAG),
            "details_root": struct.unpack_from("<Q", block, DEVICE_DETAILS_ROOT)[0],
            "checksum_ok": block_checksum(block[:BLOCK], SUPERBLOCK_CSUM_XOR) == csum}


def _node(block, blocknr):
    csum, flags, where, count, most, value_size, dummy = NODE_HEADER.unpack_from(block, 0)
    if where != blocknr or block_checksum(block[:BLOCK], BTREE_CSUM_XOR) != csum or \
            count > most or flags not in (INTERNAL_NODE, LEAF_NODE):
        raise MetadataError("metadata block %d is not the btree node the tree names" % blocknr)
    keys = struct.unpack_from("<%dQ" % count, block, NODE_HEADER.size)
    if flags == LEAF_NODE:
        return keys, None
    values = struct.unpack_from("<%dQ" % count, block, NODE_HEADER.size + 8 * most)
    return keys, values


def device_ids(read_block, root):
    """The keys of the device-details btree at block ``root``: the pool's thin ids, sorted.
    ``read_block(n)`` returns metadata block n."""
    ids, pending, seen = [], [root], set()
    while pending:
        blocknr = pending.pop()
        if blocknr in seen:
            raise MetadataError("metadata block %d is in the tree twice" % blocknr)
        seen.add(blocknr)
        keys, children = _node(read_block(blocknr), blocknr)
        if children is None:
            ids.extend(keys)
        else:
            pending.extend(children)
    return sorted(ids)


class MetadataDevice(object):
    """Blocks of a metadata device, read with O_DIRECT into a page-aligned buffer."""

    def __init__(self, path):
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECT", 0))
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            # a file on a filesystem without O_DIRECT (tmpfs before Linux 6.6): no block
            # device, so no page cache the kernel's pool writes would bypass
            self.fd = os.open(path, os.O_RDONLY)
        self.buffer = mmap.mmap(-1, BLOCK)

    def read(self, blocknr):
        os.lseek(self.fd, blocknr * BLOCK, os.SEEK_SET)
        got = os.readv(self.fd, [self.buffer])
        if got != BLOCK:
            raise MetadataError("metadata block %d of %s: read %d bytes" % (blocknr, self.path, got))
        return bytes(self.buffer[:BLOCK])

    def close(self):
        os.close(self.fd)
        self.buffer.close()


def committed_thin_ids(read_block, attempts=20):
    """The thin ids of the last committed transaction: the device-details tree walked between
    two equal reads of the superblock (a commit in between makes it walk again)."""
    for dummy in range(attempts):
        first = read_block(0)
        superblock = parse_superblock(first)
        if superblock is None or not superblock["checksum_ok"]:
            raise MetadataError("block 0 holds no valid thin-pool superblock")
        try:
            ids = device_ids(read_block, superblock["details_root"])
        except MetadataError:
            ids = None
        if read_block(0) == first:
            if ids is None:
                raise MetadataError("the device-details tree of the committed transaction does "
                                    "not check out")
            return ids
    raise MetadataError("the pool committed a new transaction during each of %d reads" % attempts)


def read_thin_ids(path):
    """The thin ids the metadata device at ``path`` holds (committed), read without messaging the
    pool; a ModuleError says why when they cannot be read."""
    try:
        device = MetadataDevice(path)
    except (IOError, OSError) as exc:
        raise ModuleError("cannot read the pool's metadata device %s: %s" % (path, exc))
    try:
        return committed_thin_ids(device.read)
    except (IOError, OSError, MetadataError) as exc:
        raise ModuleError("cannot list the thin ids in the pool's metadata (%s): %s. thin_check "
                          "on the inactive pool says whether it is damaged" % (path, exc))
    finally:
        device.close()


def read_superblock(path):
    """parse_superblock of the device's first block (read with O_DIRECT), or None."""
    device = MetadataDevice(path)
    try:
        return parse_superblock(device.read(0))
    finally:
        device.close()
