# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A read-only reader of bbolt database files (go.etcd.io/bbolt, file format version 2): the
buckets and key/value pairs of the last committed transaction. containerd's devmapper snapshotter
keeps its thin devices in one (``POOL_NAME.db`` in its root_path); no tool on a host prints them.

bbolt writes pages copy on write and one of its two meta pages last, each meta page carrying an
FNV-1a 64 checksum: the valid meta page with the higher transaction id names a whole tree, also
while containerd runs. Pure: ``read_buckets`` gets the file's bytes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import struct

MAGIC = 0xED0CDAED
VERSION = 2
PAGE_HEADER = struct.Struct("<QHHI")            # id, flags, count, overflow
META = struct.Struct("<IIII QQ QQQ Q")          # magic version pagesize flags root(pgid seq)
#                                                 freelist pgid txid checksum
BRANCH, LEAF = 0x01, 0x02
BUCKET_LEAF = 0x01                               # a leaf element whose value is a bucket
ELEMENT = 16


class BoltError(Exception):
    pass


def fnv1a64(data):
    value = 0xCBF29CE484222325
    for byte in bytearray(data):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _meta(data, offset):
    fields = META.unpack_from(data, offset + PAGE_HEADER.size)
    magic, version, page_size, dummy, root, dummy2, dummy3, dummy4, txid, checksum = fields
    body = data[offset + PAGE_HEADER.size:offset + PAGE_HEADER.size + META.size - 8]
    if magic != MAGIC or version != VERSION or fnv1a64(body) != checksum:
        return None
    return {"page_size": page_size, "root": root, "txid": txid}


def newest_meta(data):
    """The valid meta page with the higher transaction id (pages 0 and 1)."""
    first = _meta(data, 0) if len(data) >= 4096 else None
    size = first["page_size"] if first else 4096
    second = _meta(data, size) if len(data) >= 2 * size else None
    metas = [m for m in (first, second) if m]
    if not metas:
        raise BoltError("no valid bbolt meta page (not a bbolt file, or not format version 2)")
    return max(metas, key=lambda m: m["txid"])


def _elements(data, offset):
    """(flags, count, address of the first element) of the page at byte ``offset``."""
    dummy, flags, count, dummy2 = PAGE_HEADER.unpack_from(data, offset)
    return flags, count, offset + PAGE_HEADER.size


def _walk(data, offset, page_size, seen):
    """(key, value, is_bucket) of every leaf element under the page at ``offset``, in key order."""
    flags, count, first = _elements(data, offset)
    for index in range(count):
        at = first + index * ELEMENT
        if flags & BRANCH:
            pos, ksize, pgid = struct.unpack_from("<IIQ", data, at)
            if pgid in seen:
                raise BoltError("page %d is in the tree twice" % pgid)
            seen.add(pgid)
            yield from _walk(data, pgid * page_size, page_size, seen)
        elif flags & LEAF:
            eflags, pos, ksize, vsize = struct.unpack_from("<IIII", data, at)
            if at + pos + ksize + vsize > len(data):
                raise BoltError("an element of the page at byte %d ends past the file's end"
                                % offset)
            key = data[at + pos:at + pos + ksize]
            value = data[at + pos + ksize:at + pos + ksize + vsize]
            yield key, value, bool(eflags & BUCKET_LEAF)
        else:
            raise BoltError("page at byte %d is neither a branch nor a leaf" % offset)


def _bucket(data, value, page_size, seen):
    """{key: value or nested bucket dict} of a bucket whose header (root pgid, sequence) is
    ``value``; an inline bucket (root 0) has its page right after the header."""
    root, sequence = struct.unpack_from("<QQ", value, 0)
    if root == 0:
        inline = value[16:]
        items = _walk(inline, 0, page_size, seen)
        source = inline
    else:
        items = _walk(data, root * page_size, page_size, seen)
        source = data
    found = {}
    for key, item, is_bucket in items:
        found[key] = _bucket(source, item, page_size, seen) if is_bucket else item
    found[None] = sequence          # the bucket's NextSequence counter
    return found


def read_buckets(data):
    """{bucket name: {key: value}} of the top-level buckets (nested buckets as dicts; each dict's
    key None holds the bucket's sequence)."""
    meta = newest_meta(data)
    page_size = meta["page_size"]
    seen = set()
    found = {}
    try:
        for key, value, is_bucket in _walk(data, meta["root"] * page_size, page_size, seen):
            if is_bucket:
                found[key] = _bucket(data, value, page_size, seen)
    except struct.error:
        # a page the tree names lies past the end of the bytes read
        raise BoltError("the file ends inside a page its tree names (cut short or damaged)")
    return found
