"""Capture what dm_thinpool_repair reads, for its unit tests: on a guest, a raw pool over loop
files (16M metadata, 64K blocks) with three thin devices of 8 MiB written each, taken down; then
the mapping tree of thin device 1 overwritten (tests/thin_superblock.py). The same for an LVM pool
on the guest's spare disk (/dev/ubdb): the commands the module runs to read it, inactive, before
and after its thin LV t1's tree was overwritten in place on the PV ("lvm" in the output). Recorded: the commands
the module runs to read (dmsetup info of the absent pool, losetup's list with the metadata file
attached, thin_check of the sound and of the damaged file), the damaged metadata file itself
(gzip, base64), and what thin_repair makes of it (thin_dump of the repaired file: which devices
keep how many mappings). Everything is removed again.

Usage: capture_metadata_repair.py LAB GUEST [NAME]
  e.g. testhost -l cap up -g mr:1G%bookworm; capture_metadata_repair.py cap mr
Writes tests/unit/fixtures/NAME.json (default metadata_repair; metadata_repair_trixie is the same
on trixie, whose thin_repair 1.1.0 drops the device after the damaged one)."""

import json
import os
import sys

from testhost import lab as lab_mod

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from thin_superblock import DAMAGE_MAPPING_TREE  # noqa: E402 pylint: disable=wrong-import-position

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "unit", "fixtures",
                   (sys.argv[3] if len(sys.argv) > 3 else "metadata_repair") + ".json")
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
LVM = r"""set -e
pvcreate -q /dev/ubdb >/dev/null; vgcreate -q vgr /dev/ubdb >/dev/null
lvcreate -q --type thin-pool -L 256M --poolmetadatasize 8M -n pool vgr >/dev/null
for i in 0 1 2; do
    lvcreate -q -V 64M --thin vgr/pool -n t$i >/dev/null
    dd if=/dev/urandom of=/dev/vgr/t$i bs=1M count=8 oflag=direct status=none
done
vgchange -q -an vgr >/dev/null
"""
TMETA_AT = ("echo $(( $(pvs --noheadings --units b --nosuffix -o pe_start /dev/ubdb) + "
            "$(lvs -a --noheadings -o seg_pe_ranges vgr/pool_tmeta | cut -d: -f2 | cut -d- -f1) * "
            "$(vgs --noheadings --units b --nosuffix -o vg_extent_size vgr) ))")
# what read_lvm runs, in its order (thinpool.py's fields)
LVM_READS = [
    "vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size,"
    "vg_extent_count,vg_free_count vgr",
    "lvs -a --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_attr,lv_size,pool_lv,"
    "data_percent,metadata_percent,lv_metadata_size,chunk_size,seg_monitor,lv_profile,"
    "transaction_id,lv_active,zero,lv_dm_path vgr",
    "dmsetup info -c --noheadings -o major,minor vgr-pool-tpool",
    "dmsetup info -c --noheadings -o major,minor vgr-pool",
    "lvchange --activate y --yes vgr/pool_tmeta",
    "thin_check /dev/vgr/pool_tmeta",
    "lvchange --activate n vgr/pool_tmeta"]
CLEAN = ("for d in mr-thin0 mr-thin1 mr-thin2 mr-pool; do dmsetup remove $d 2>/dev/null; done; "
         "for l in $(losetup -j /var/tmp/mr/meta -O NAME -n) $(losetup -j /var/tmp/mr/data -O NAME -n); "
         "do losetup -d $l; done; rm -rf /var/tmp/mr; vgremove -q -ff -y vgr; "
         "pvremove -q -ff -y /dev/ubdb")


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
        records["repaired_gzip_base64"] = sh(
            "gzip -c %s/meta.repaired | base64 -w0" % DIR)["stdout"].strip()
        records["versions"] = sh("thin_check -V; uname -r; lvm version | head -1")["stdout"]
        sh("bash -s", LVM)
        records["lvm_sound"] = [sh(c + " </dev/null", check=False) for c in LVM_READS]
        offset = int(sh(TMETA_AT)["stdout"])
        thin_id = int(sh("lvs --noheadings -o thin_id vgr/t1")["stdout"])
        sh("dd if=/dev/ubdb of=/root/tmeta bs=1M count=8 iflag=skip_bytes skip=%d status=none"
           % offset)
        sh("python3 - /root/tmeta %d" % thin_id, DAMAGE_MAPPING_TREE)
        sh("dd if=/root/tmeta of=/dev/ubdb bs=1M count=8 oflag=seek_bytes,direct conv=notrunc "
           "seek=%d status=none && rm /root/tmeta" % offset)
        records["lvm_damaged"] = [sh(c + " </dev/null", check=False) for c in LVM_READS]
        records["lvm_damaged_thin_id"] = thin_id
        for record in records["lvm_sound"] + records["lvm_damaged"]:
            record["command"] = record["command"][:-len(" </dev/null")]
    finally:
        sh(CLEAN, check=False)
    with open(OUT, "w") as handle:
        json.dump(records, handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
