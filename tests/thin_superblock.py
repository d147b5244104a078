"""Damage done on purpose to a thin pool's metadata, for tests that need a pool in that state.

``set_needs_check`` sets the needs_check flag of the superblock, as the kernel does when it
meets an error in the metadata: the flag is bit 0 of
the little-endian word at offset 4, and the block's checksum (offset 0) is crc32c of the rest,
from an all-ones seed without final inversion, xor 160774 (linux dm-thin-metadata.c). The
program runs in a guest with python3 alone; it refuses a superblock whose checksum it cannot
reproduce, so a wrong formula fails the test instead of damaging the metadata unnoticed.

``damage_mapping_tree`` overwrites the root block of one thin device's mapping tree with random
bytes, as a lost or torn metadata write leaves it: the program walks the top-level mapping tree
from the superblock (its root at offset 320; btree nodes as in dm-btree.c, checksum xor 121107,
leaf values the devices' tree roots) and checks every node's checksum and block number on the
way, so that it hits the block it means or fails."""

SET_NEEDS_CHECK = r"""
import os, struct, sys
def csum(block):
    crc = 0xFFFFFFFF
    for byte in bytearray(block[4:]):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 160774
path = sys.argv[1]
fd = os.open(path, os.O_RDWR)
block = bytearray(os.pread(fd, 4096, 0))
assert struct.unpack_from("<Q", block, 32)[0] == 27022010, "no thin-pool superblock"
assert struct.unpack_from("<I", block, 0)[0] == csum(block), "checksum not reproduced"
struct.pack_into("<I", block, 4, struct.unpack_from("<I", block, 4)[0] | 1)
struct.pack_into("<I", block, 0, csum(block))
os.pwrite(fd, bytes(block), 0)
os.fsync(fd)
os.close(fd)
"""

DAMAGE_MAPPING_TREE = r"""
import os, struct, sys
def csum(block, xor):
    crc = 0xFFFFFFFF
    for byte in bytearray(block[4:]):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ xor
path, thin_id = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_RDWR)
read = lambda n: os.pread(fd, 4096, n * 4096)
sb = read(0)
assert struct.unpack_from("<Q", sb, 32)[0] == 27022010, "no thin-pool superblock"
assert struct.unpack_from("<I", sb, 0)[0] == csum(sb, 160774), "checksum not reproduced"
def lookup(blocknr, key):
    node = read(blocknr)
    check, flags, where, count, most, size, pad = struct.unpack_from("<IIQIIII", node, 0)
    assert where == blocknr and check == csum(node, 121107), "block %d is no btree node" % blocknr
    keys = struct.unpack_from("<%dQ" % count, node, 32)
    values = struct.unpack_from("<%dQ" % count, node, 32 + 8 * most)
    if flags == 2:
        return values[keys.index(key)]
    return lookup(values[max(i for i, k in enumerate(keys) if k <= key)], key)
root = lookup(struct.unpack_from("<Q", sb, 320)[0], thin_id)
os.pwrite(fd, os.urandom(4096), root * 4096)
os.fsync(fd)
print(root)
"""


def set_needs_check(guest, path):
    """Set the flag on the metadata device or file ``path`` (its pool must not be active)."""
    guest.sh("python3 -c '%s' %s" % (SET_NEEDS_CHECK.replace("'", "'\\''"), path))


def damage_mapping_tree(guest, path, thin_id):
    """Overwrite the root of thin device ``thin_id``'s mapping tree in the metadata device or
    file ``path`` (its pool must not be active); the block number."""
    return int(guest.out("python3 -c '%s' %s %d" % (
        DAMAGE_MAPPING_TREE.replace("'", "'\\''"), path, thin_id)))
