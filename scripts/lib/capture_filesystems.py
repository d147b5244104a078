"""Capture what a filesystem's superblock says of its size (dumpe2fs -h, xfs_db) next to its
device's size (blockdev), on test hosts of each release: made, after the device grew under it
(a device-mapper table reloaded larger, as dm_base_device grows a base device), and after the
filesystem grew into it.

Usage: capture_filesystems.py LAB GUEST:RELEASE [GUEST:RELEASE ...]
Writes tests/unit/fixtures/fs_span_RELEASE.json ({"commands": [{stage, fs, mounted, command, rc,
stdout, stderr}]}, as tests/unit/captured.py reads it). Everything is made on sparse files under /root
and removed again.
"""

import json
import os
import sys

from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures")
SIZES_MIB = {"ext4": (1024, 3072), "xfs": (512, 2048)}
MKFS = {"ext4": "mkfs.ext4 -q -E nodiscard,lazy_itable_init=0,lazy_journal_init=0",
        "xfs": "mkfs.xfs -q -K"}
SPAN = {"ext4": "dumpe2fs -h /dev/mapper/span-ext4",
        "xfs": "xfs_db -r -c 'sb 0' -c 'print dblocks blocksize agblocks' /dev/mapper/span-xfs"}
GROW = {"ext4": "e2fsck -f -p /dev/mapper/span-ext4 && resize2fs /dev/mapper/span-ext4",
        "xfs": "mkdir -p /mnt/span && mount -o nouuid /dev/mapper/span-xfs /mnt/span && "
               "xfs_growfs /mnt/span && umount /mnt/span"}


def sh(guest, command):
    """The command through ssh as written (testhost exec would split and join it again)."""
    proc = LAB.run(LAB.guest(guest), command, timeout=300)
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def must(guest, command):
    record = sh(guest, command)
    if record["rc"] != 0:
        raise SystemExit("%s: %s failed: %s" % (guest, command, record["stderr"]))
    return record


def table(mib, image):
    return "0 %d linear $(losetup -j %s -n -O NAME) 0" % (mib * 2048, image)


def capture(guest):
    records = []
    for fs, (small, large) in sorted(SIZES_MIB.items()):
        image, name = "/root/span-%s.img" % fs, "span-" + fs
        must(guest, "truncate -s %dM %s && losetup -f %s && dmsetup create %s --table \"%s\""
             % (small, image, image, name, table(small, image)))
        must(guest, "%s /dev/mapper/%s" % (MKFS[fs], name))
        for stage in ("made", "device_grown", "grown"):
            if stage == "device_grown":
                must(guest, "truncate -s %dM %s && losetup -c $(losetup -j %s -n -O NAME) && "
                            "dmsetup reload %s --table \"%s\" && dmsetup resume %s"
                     % (large, image, image, name, table(large, image), name))
            if stage == "grown" and fs == "ext4":
                must(guest, GROW[fs])
            for command in (SPAN[fs], "blockdev --getsize64 /dev/mapper/" + name):
                records.append(dict(sh(guest, command), stage=stage, fs=fs, mounted=False))
            if fs == "xfs":
                # mounted (grown while mounted, in the last stage): xfs_info through the mount
                # point, and xfs_db's read of the device beside it
                must(guest, "mkdir -p /mnt/span && mount -o nouuid /dev/mapper/%s /mnt/span%s"
                     % (name, " && xfs_growfs /mnt/span" if stage == "grown" else ""))
                for command in ("xfs_info /mnt/span", SPAN[fs]):
                    records.append(dict(sh(guest, command), stage=stage, fs=fs, mounted=True))
                must(guest, "umount /mnt/span")
                if stage == "grown":
                    # unmounted again: the superblock on the device is written back
                    records.append(dict(sh(guest, SPAN[fs]), stage="grown_unmounted", fs=fs,
                                        mounted=False))
        must(guest, "dmsetup remove %s && losetup -d $(losetup -j %s -n -O NAME) && rm %s"
             % (name, image, image))
    return records


for spec in sys.argv[2:]:
    guest, release = spec.split(":")
    versions = [sh(guest, c) for c in ("cat /etc/debian_version", "dumpe2fs -V 2>&1",
                                       "xfs_db -V")]
    path = os.path.normpath(os.path.join(FIXTURES, "fs_span_%s.json" % release))
    with open(path, "w") as handle:
        json.dump({"release": release, "versions": versions, "commands": capture(guest)},
                  handle, indent=1, sort_keys=True)
    print("wrote", path)
