"""Capture a disk whose partitions are members of something blkid names and nothing holds, for the
volume-group unit tests: the first a LUKS1 volume (a header written by python: the image has no
cryptsetup), the second a physical volume of an inactive volume group that an LVM global_filter
hides from pvs. Recorded: pvs, blkid -p of the disk and of each partition, and the disk's
partitions and their holders in sysfs. The disk is a loop device over a sparse file in the guest
(losetup -P), with a DOS partition table written without fdisk.

Usage: capture_partition_members.py LAB GUEST
Writes tests/unit/fixtures/partition_members.json ({"commands": [...]}, as tests/unit/captured.py
reads them). Everything is removed again, lvm.conf restored."""

import json
import os
import sys

from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures",
                   "partition_members.json")
# two partitions of 48 MiB: type 83 from sector 2048, type 8e (Linux LVM) from sector 100352
MAKE = r"""set -e
truncate -s 128M /var/tmp/pm.img
python3 -c "
import struct
f = open('/var/tmp/pm.img', 'r+b')
f.seek(446); f.write(struct.pack('<BBBBBBBBII', 0, 0, 2, 0, 0x83, 0, 0, 0, 2048, 98304))
f.write(struct.pack('<BBBBBBBBII', 0, 0, 2, 0, 0x8e, 0, 0, 0, 100352, 98304))
f.seek(510); f.write(b'\x55\xaa'); f.close()"
d=$(losetup -P -f --show /var/tmp/pm.img); echo $d > /var/tmp/pm.dev
udevadm settle
python3 -c "
f = open('${d}p1', 'r+b')
f.write(b'LUKS\xba\xbe\x00\x01'); f.write(b'aes'.ljust(32, b'\0'))
f.write(b'xts-plain64'.ljust(32, b'\0')); f.write(b'sha256'.ljust(32, b'\0'))
f.seek(168); f.write(b'12345678-1234-1234-1234-123456789abc'); f.close()"
pvcreate -q ${d}p2 && vgcreate -q hidden ${d}p2 && vgchange -q -an hidden
cp /etc/lvm/lvm.conf /root/lvm.conf.pm
printf 'devices {\n\tglobal_filter = [ "r|^%sp2$|" ]\n}\n' $d >> /etc/lvm/lvm.conf
"""


def sh(command, stdin=None):
    proc = LAB.run(GUEST, command, timeout=300, input_text=stdin)
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def main():
    made = sh("bash -s", MAKE)
    if made["rc"]:
        raise SystemExit(made["stderr"])
    disk = sh("cat /var/tmp/pm.dev")["stdout"].strip()
    name = os.path.basename(disk)
    commands = [
        sh("pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size"),
        sh("blkid -p -o export %s" % disk),
        sh("blkid -p -o export %sp1" % disk),
        sh("blkid -p -o export %sp2" % disk),
        sh("cd /sys/class/block/%s && for p in */partition; do d=${p%%/partition}; "
           "echo $d $(ls $d/holders); done" % name),
        sh("lvm version"),
    ]
    sh("cp /root/lvm.conf.pm /etc/lvm/lvm.conf && rm /root/lvm.conf.pm; vgremove -q -y hidden; "
       "losetup -d %s; rm -f /var/tmp/pm.img /var/tmp/pm.dev" % disk)
    with open(OUT, "w") as handle:
        json.dump({"disk": disk, "commands": commands}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(json.dumps(commands, indent=1))


if __name__ == "__main__":
    main()
