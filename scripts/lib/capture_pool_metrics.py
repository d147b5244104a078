"""Capture what the pool_metrics collector reads, for its unit tests: on a guest with one spare
disk (/dev/ubdb), a raw pool with two thin devices and 40 MiB written, a raw pool filled until it
ran out of data space (error_if_no_space: the writes fail at once), and an LVM volume group with
a monitored thin pool holding a thin LV and an unmonitored one. Recorded: the dmsetup and lvs
command lines the collector runs, with their outputs, and the collector's own output when run on
the guest (roles/pool_metrics/files/devmapper-pool-metrics, with the collection's
thin_metadata.py beside it). Everything is removed again.

Usage: capture_pool_metrics.py LAB GUEST
  e.g. testhost -l cap up -g pm:1G%bookworm; capture_pool_metrics.py cap pm
Writes tests/unit/fixtures/pool_metrics.json ({"commands": [...], "collector": text})."""

import json
import os
import sys

from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "unit", "fixtures", "pool_metrics.json")
MAKE = r"""set -e
modprobe dm_thin_pool
mkdir -p /var/tmp/pm && cd /var/tmp/pm
truncate -s 256M data; truncate -s 16M meta; truncate -s 64M fdata; truncate -s 16M fmeta
D=$(losetup -f --show data); M=$(losetup -f --show meta)
dmsetup create raw-pool --table "0 $((256*2048)) thin-pool $M $D 128 32768 1 skip_block_zeroing"
dmsetup message raw-pool 0 "create_thin 0"; dmsetup message raw-pool 0 "create_thin 1"
dmsetup create raw-thin --table "0 $((512*2048)) thin /dev/mapper/raw-pool 0"
dd if=/dev/urandom of=/dev/mapper/raw-thin bs=1M count=40 oflag=direct status=none
FD=$(losetup -f --show fdata); FM=$(losetup -f --show fmeta)
dmsetup create full-pool --table "0 $((64*2048)) thin-pool $FM $FD 128 0 2 skip_block_zeroing error_if_no_space"
dmsetup message full-pool 0 "create_thin 0"
dmsetup create full-thin --table "0 $((128*2048)) thin /dev/mapper/full-pool 0"
dd if=/dev/urandom of=/dev/mapper/full-thin bs=1M count=100 oflag=direct status=none 2>/dev/null || true
pvcreate -q /dev/ubdb; vgcreate -q vgm /dev/ubdb
lvcreate -q --type thin-pool -L 256M -n pool vgm
lvcreate -q -V 128M --thin vgm/pool -n thin1
lvcreate -q --type thin-pool -L 128M -n quiet vgm
lvchange -q --monitor n vgm/quiet
mkdir -p /var/tmp/pm/bin
"""
CLEAN = r"""dmsetup remove raw-thin; dmsetup remove full-thin; dmsetup remove raw-pool
dmsetup remove full-pool; vgremove -q -ff -y vgm; pvremove -q -ff -y /dev/ubdb; losetup -D
rm -rf /var/tmp/pm
"""
COMMANDS = ["dmsetup table --target thin-pool", "dmsetup status --target thin-pool",
            "lvs --noheadings --separator | -o vg_name,lv_name,lv_dm_path,seg_monitor "
            "--select segtype=thin-pool"]


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
        for name, path in (("devmapper-pool-metrics", "roles/pool_metrics/files/"),
                           ("thin_metadata.py", "plugins/module_utils/")):
            with open(os.path.join(ROOT, path, name)) as handle:
                sh("cat > /var/tmp/pm/bin/%s" % name, handle.read())
        # the lvs line as the collector passes it (argv, no shell): quoted here
        commands = [sh(c.replace("| -o", "'|' -o")) for c in COMMANDS]
        for record, command in zip(commands, COMMANDS):
            record["command"] = command
        collector = sh("python3 /var/tmp/pm/bin/devmapper-pool-metrics /var/tmp/pm/out.prom && "
                       "cat /var/tmp/pm/out.prom")["stdout"]
        versions = sh("dmsetup version; lvm version | head -1; uname -r")["stdout"]
    finally:
        sh("bash -s", CLEAN, check=False)
    with open(OUT, "w") as handle:
        json.dump({"commands": commands, "collector": collector, "versions": versions},
                  handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(collector)


if __name__ == "__main__":
    main()
