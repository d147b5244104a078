"""Capture xfs_info of an XFS with ftype=0 and one with ftype=1, for the migration's overlay2
preflight (overlay2 needs d_type): an XFS without d_type support can only be made in the old V4
format (`-m crc=0 -n ftype=0`; bookworm's mkfs.xfs 6.1 still makes it, with a deprecation
warning), the other with mkfs.xfs's defaults. Each is made on a sparse file under /var/tmp,
loop-mounted at /mnt/ftype0 and /mnt/ftype1, read through the mount point (xfs_info, and
`stat -f -c %T` of the first, which says only "xfs"), then unmounted, detached and removed.

Usage: capture_xfs_ftype.py LAB GUEST
  e.g. testhost -l xfscap up -g xfs1:1G%bookworm; then this
Writes tests/unit/fixtures/xfs_ftype.json ({"commands": [{command, rc, stdout, stderr}],
"versions": [...]}, as tests/unit/captured.py reads it)."""

import sys

from guest_capture import GuestCapture, write_fixture
from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
CAPTURE = GuestCapture(LAB, LAB.guest(sys.argv[2]))
sh, must = CAPTURE.sh, CAPTURE.must
FILES = {"ftype0": "/var/tmp/xfs-ftype0.img", "ftype1": "/var/tmp/xfs-ftype1.img"}
MKFS = {"ftype0": "mkfs.xfs -f -m crc=0 -n ftype=0 " + FILES["ftype0"],
        "ftype1": "mkfs.xfs -f " + FILES["ftype1"]}
READ = ("xfs_info /mnt/ftype0", "xfs_info /mnt/ftype1", "stat -f -c %T /mnt/ftype0")


def clean():
    for name, image in sorted(FILES.items()):
        sh("umount /mnt/%s; for d in $(losetup -j %s -n -O NAME); do losetup -d $d; done; "
           "rm -f %s; rmdir /mnt/%s" % (name, image, image, name))


def main():
    records = []
    try:
        for name, image in sorted(FILES.items()):
            must("truncate -s 300M " + image)
            # recorded as well: the ftype=0 mkfs warns "V4 filesystems are deprecated" on stdout
            records.append(must(MKFS[name]))
            must("mkdir -p /mnt/%s && mount $(losetup --find --show %s) /mnt/%s"
                 % (name, image, name))
        records.extend(must(command) for command in READ)
        versions = [sh(c) for c in ("cat /etc/debian_version", "uname -r", "mkfs.xfs -V")]
    finally:
        clean()
    write_fixture("xfs_ftype", records, versions)


if __name__ == "__main__":
    main()
