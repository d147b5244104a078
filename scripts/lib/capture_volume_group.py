"""Capture real pvs/vgs/blkid/lsblk outputs for the volume-group unit tests, from a test host.

Usage: capture_volume_group.py LAB GUEST   (the guest needs three spare disks: ubdb, ubdc, ubdd)
Writes tests/unit/fixtures/volume_group.json: {state: {command: {rc, stdout, stderr}}}.
"""

import json
import os
import subprocess
import sys

LAB, GUEST = sys.argv[1], sys.argv[2]
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures",
                   "volume_group.json")
PVS = "pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size"
VGS = "vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size,pv_count docker"
# a DOS partition table with one partition, written without fdisk (not in a minimal root)
MBR = ("python3 -c \"import struct; f=open('/dev/ubdd','r+b'); f.seek(446); "
       "f.write(struct.pack('<BBBBBBBBII', 0, 0, 2, 0, 0x83, 0, 0, 0, 2048, 4096)); "
       "f.seek(510); f.write(b'\\x55\\xaa'); f.close()\"")


def sh(command):
    # testhost exec hands its words to the guest's shell, which parses the string once
    proc = subprocess.run(["testhost", "-l", LAB, "exec", GUEST, "--", command],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


def capture(commands):
    return dict((c, sh(c)) for c in commands)


states = {}
sh("vgremove -q -y docker 2>/dev/null; pvremove -q -y /dev/ubdb /dev/ubdc 2>/dev/null; "
   "wipefs -q -a /dev/ubdb /dev/ubdc /dev/ubdd")
states["blank"] = capture([PVS, VGS, "blkid -p -o export /dev/ubdb",
                           "lsblk --json --paths --output NAME,MOUNTPOINT /dev/ubdb"])
sh("pvcreate -q /dev/ubdc && vgcreate -q docker /dev/ubdb && mkfs.xfs -q -f /dev/ubdd")
states["vg_one_pv_orphan_pv_xfs"] = capture([PVS, VGS, "blkid -p -o export /dev/ubdc",
                                             "blkid -p -o export /dev/ubdd"])
sh("wipefs -q -a /dev/ubdd && " + MBR)
states["dos_partition_table"] = capture(["blkid -p -o export /dev/ubdd"])
sh("wipefs -q -a /dev/ubdd && mkfs.ext4 -q -F /dev/ubdd && mkdir -p /mnt/x && mount /dev/ubdd /mnt/x")
states["mounted_ext4"] = capture(["blkid -p -o export /dev/ubdd",
                                  "lsblk --json --paths --output NAME,MOUNTPOINT /dev/ubdd"])
sh("umount /mnt/x; wipefs -q -a /dev/ubdd; vgextend -q docker /dev/ubdc")
states["vg_two_pvs"] = capture([PVS, VGS])
sh("vgremove -q -y docker; pvremove -q -y /dev/ubdb /dev/ubdc")
states["versions"] = capture(["lvm version", "blkid --version", "lsblk --version", "uname -r"])
with open(OUT, "w") as handle:
    json.dump(states, handle, indent=1, sort_keys=True)
print("wrote", os.path.normpath(OUT))
