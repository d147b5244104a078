"""Capture a disk whose partition is an LVM physical volume of a volume group that is not active
(no holders), for the volume-group unit tests: pvs, blkid -p of the disk, and the disk's
partitions and their holders in sysfs. The disk is a loop device over a sparse file in the guest
(losetup -P), with a DOS partition table written without fdisk.

Usage: capture_partition_pv.py LAB GUEST
Writes tests/unit/fixtures/partition_pv.json ({"commands": [...]}, as tests/unit/captured.py reads
them). Everything is removed again."""

import json
import os
import sys

from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures",
                   "partition_pv.json")
# one partition from sector 2048, 96 MiB, type 8e (Linux LVM)
MAKE = r"""set -e
truncate -s 128M /var/tmp/ppv.img
python3 -c "
import struct
f = open('/var/tmp/ppv.img', 'r+b')
f.seek(446); f.write(struct.pack('<BBBBBBBBII', 0, 0, 2, 0, 0x8e, 0, 0, 0, 2048, 196608))
f.seek(510); f.write(b'\x55\xaa'); f.close()"
losetup -P -f --show /var/tmp/ppv.img > /var/tmp/ppv.dev
udevadm settle
pvcreate -q $(cat /var/tmp/ppv.dev)p1 && vgcreate -q inact $(cat /var/tmp/ppv.dev)p1
lvcreate -q -L 8M -n lv inact && vgchange -q -an inact
"""


def sh(command, stdin=None):
    proc = LAB.run(GUEST, command, timeout=300, input_text=stdin)
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def main():
    made = sh("bash -s", MAKE)
    if made["rc"]:
        raise SystemExit(made["stderr"])
    disk = sh("cat /var/tmp/ppv.dev")["stdout"].strip()
    name = os.path.basename(disk)
    commands = [
        sh("pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size"),
        sh("blkid -p -o export %s" % disk),
        sh("cd /sys/class/block/%s && for p in */partition; do d=${p%%/partition}; "
           "echo $d $(ls $d/holders); done" % name),
    ]
    sh("vgremove -q -y inact; losetup -d %s; rm -f /var/tmp/ppv.img /var/tmp/ppv.dev" % disk)
    with open(OUT, "w") as handle:
        json.dump({"disk": disk, "commands": commands}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(json.dumps(commands, indent=1))


if __name__ == "__main__":
    main()
