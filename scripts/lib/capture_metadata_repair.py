"""Capture what dm_thinpool_repair reads, for its unit tests: on a guest, a raw pool over loop
files (16M metadata, 64K blocks) with three thin devices of 8 MiB written each, taken down; then
the mapping tree of thin device 1 overwritten (tests/thin_superblock.py). Recorded: the commands
the module runs to read (dmsetup info of the absent pool, losetup's list with the metadata file
attached, thin_check of the sound and of the damaged file), the damaged metadata file itself
(gzip, base64), and what thin_repair makes of it (thin_dump of the repaired file: which devices
keep how many mappings). Everything is removed again.

Usage: capture_metadata_repair.py LAB GUEST
  e.g. testhost -l cap up -g mr:1G%bookworm; capture_metadata_repair.py cap mr
Writes tests/unit/fixtures/metadata_repair.json."""

import json
import os
import sys

from testhost import lab as lab_mod

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from thin_superblock import DAMAGE_MAPPING_TREE  # noqa: E402 pylint: disable=wrong-import-position

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "unit", "fixtures", "metadata_repair.json")
DIR = "/var/tmp/mr"
MAKE = r"""set -e
modprobe dm_thin_pool
mkdir -p /var/tmp/mr && cd /var/tmp/mr
truncate -s 256M data; truncate -s 16M meta
D=$(losetup -f --show data); M=$(losetup -f --show meta)
dmsetup create mr-pool --table "0 $((256*2048)) thin-pool $M $D 128 0 1 skip_block_zeroing"
for i in 0 1 2; do
  dmsetup message mr-pool 0 "create_thin $i"
  dmsetup create mr-thin$i --table "0 $((64*2048)) thin /dev/mapper/mr-pool $i"
  dd if=/dev/urandom of=/dev/mapper/mr-thin$i bs=1M count=8 oflag=direct status=none
  udevadm settle
  dmsetup remove mr-thin$i
done
dmsetup remove mr-pool
"""
CLEAN = ("for d in mr-thin0 mr-thin1 mr-thin2 mr-pool; do dmsetup remove $d 2>/dev/null; done; "
         "for l in $(losetup -j /var/tmp/mr/meta -O NAME -n) $(losetup -j /var/tmp/mr/data -O NAME -n); "
         "do losetup -d $l; done; rm -rf /var/tmp/mr")


def sh(command, stdin=None, check=True):
    proc = LAB.run(GUEST, command, timeout=600, input_text=stdin)
    if check and proc.returncode:
        raise SystemExit("%s: rc %d\n%s\n%s" % (command, proc.returncode, proc.stdout,
                                                proc.stderr))
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def main():
    try:
        sh("bash -s", MAKE)
        records = {
            "dmsetup_info_absent": sh("dmsetup info -c --noheadings -o major,minor mr-pool",
                                      check=False),
            "losetup": sh("losetup --json --list --output NAME,BACK-FILE"),
            "thin_check_sound": sh("thin_check %s/meta" % DIR, check=False)}
        records["damaged_root_block"] = int(sh("python3 - %s/meta 1" % DIR,
                                               DAMAGE_MAPPING_TREE)["stdout"])
        records["thin_check_damaged"] = sh("thin_check %s/meta" % DIR, check=False)
        records["metadata_gzip_base64"] = sh(
            "gzip -c %s/meta | base64 -w0" % DIR)["stdout"].strip()
        sh("truncate -s 16M %s/meta.repaired && thin_repair -i %s/meta -o %s/meta.repaired"
           % (DIR, DIR, DIR))
        records["repaired_devices"] = sh("thin_dump %s/meta.repaired | grep '<device'"
                                         % DIR)["stdout"]
        records["versions"] = sh("thin_check -V; uname -r")["stdout"]
    finally:
        sh(CLEAN, check=False)
    with open(OUT, "w") as handle:
        json.dump(records, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
