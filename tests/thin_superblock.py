"""Sets the needs_check flag of a thin pool's metadata superblock, as the kernel does when it
meets an error in the metadata, for tests that need a pool in that state: the flag is bit 0 of
the little-endian word at offset 4, and the block's checksum (offset 0) is crc32c of the rest,
from an all-ones seed without final inversion, xor 160774 (linux dm-thin-metadata.c). The
program runs in a guest with python3 alone; it refuses a superblock whose checksum it cannot
reproduce, so a wrong formula fails the test instead of damaging the metadata unnoticed."""

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


def set_needs_check(guest, path):
    """Set the flag on the metadata device or file ``path`` (its pool must not be active)."""
    guest.sh("python3 -c '%s' %s" % (SET_NEEDS_CHECK.replace("'", "'\\''"), path))
