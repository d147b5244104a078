"""Capture a thin pool's metadata on a test host for the unit tests of module_utils/thin_metadata:
a pool with enough thin ids (some of them snapshots, some deleted) for its device-details btree to
need an internal node, and what thin_ls says it holds; then the superblock with the needs_check
flag set (tests/thin_superblock.py), what thin_check and the kernel make of it, and the superblock
after thin_check --clear-needs-check-flag.

Usage: capture_thin_metadata.py LAB GUEST
Writes tests/unit/fixtures/thin_metadata.json: {"commands": [...], "blocks": {blocknr: hex}} with
only the blocks the device-details tree is made of (and block 0)."""

import base64
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [os.path.join(ROOT, "tests"), os.path.join(ROOT, ".build")]

from testhost import lab as lab_mod  # noqa: E402
from thin_superblock import SET_NEEDS_CHECK  # noqa: E402
from ansible_collections.devmapper.storage.plugins.module_utils import thin_metadata  # noqa

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
FIXTURE = os.path.join(ROOT, "tests", "unit", "fixtures", "thin_metadata.json")
MAKE = r"""set -e
modprobe dm_thin_pool
mkdir -p /root/tm && cd /root/tm
truncate -s 512M data && truncate -s 16M meta
D=$(losetup -f --show data); M=$(losetup -f --show meta)
echo "$M" > loopmeta
dmsetup create tm-pool --table "0 1048576 thin-pool $M $D 128 32768 1 skip_block_zeroing"
dmsetup message tm-pool 0 "create_thin 0"
dmsetup message tm-pool 0 "create_snap 1 0"
for i in $(seq 2 3 600); do dmsetup message tm-pool 0 "create_thin $i"; done
for i in 5 299 599; do dmsetup message tm-pool 0 "delete $i"; done
dmsetup remove tm-pool
"""


def sh(command, stdin=None):
    proc = LAB.run(GUEST, command, timeout=600, input_text=stdin)
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def must(command, stdin=None):
    record = sh(command, stdin)
    if record["rc"] != 0:
        raise SystemExit("%s failed: %s %s" % (command, record["stdout"], record["stderr"]))
    return record


def metadata_file():
    packed = must("gzip -c /root/tm/meta | base64 -w0")["stdout"]
    return gzip.decompress(base64.b64decode(packed))


def main():
    must("bash -s", MAKE)
    meta = must("cat /root/tm/loopmeta")["stdout"].strip()
    commands = [must("thin_ls -o DEV %s" % meta)]
    image = metadata_file()
    used = set([0])

    def read_block(blocknr):
        used.add(blocknr)
        return image[blocknr * 4096:(blocknr + 1) * 4096]

    thin_metadata.committed_thin_ids(read_block)
    blocks = dict((str(n), image[n * 4096:(n + 1) * 4096].hex()) for n in sorted(used))

    must("python3 - %s" % meta, SET_NEEDS_CHECK)
    flagged = metadata_file()[:4096].hex()
    commands.append(sh("thin_check %s" % meta))
    commands.append(must("D=$(losetup -j /root/tm/data -O NAME --noheadings) && dmsetup create "
                         "tm-pool --table \"0 1048576 thin-pool %s $D 128 32768 1 "
                         "skip_block_zeroing\" && dmsetup status tm-pool && dmsetup remove tm-pool"
                         % meta))
    commands.append(sh("thin_check --clear-needs-check-flag %s" % meta))
    cleared = metadata_file()[:4096].hex()
    must("losetup -D && rm -rf /root/tm")
    with open(FIXTURE, "w") as handle:
        json.dump({"commands": commands, "blocks": blocks, "needs_check_set": flagged,
                   "needs_check_cleared": cleared}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("%s: %d blocks, %d ids" % (FIXTURE, len(blocks),
                                     len(commands[0]["stdout"].split()) - 1))


if __name__ == "__main__":
    main()
