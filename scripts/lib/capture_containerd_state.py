"""Capture containerd's devmapper snapshotter state and its pool, for the unit tests of
bbolt.py and snapshotter_state.py: a raw pool over loop files, containerd pointed at it (a
version-2 config written by hand, as containerd's docs do), an OCI image imported and run (so
that the state holds a layer's device, a container's and removed ones), then one thin id made
in the pool by a message, as a crash between the pool's create_thin and the state's write
leaves it. Recorded: the state file (ROOT_PATH/POOL_NAME.db, gzip + base64), what `ctr snapshots` lists,
the thin ids of the pool by thin_dump of a metadata snapshot (thin-provisioning-tools, not the
collection's reader), the orphan id made, containerd's version.

Usage: capture_containerd_state.py LAB GUEST
Writes tests/unit/fixtures/containerd_state.json. Everything is removed again, containerd's
config restored."""

import base64
import gzip
import json
import os
import re
import sys

from testhost import lab as lab_mod

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests"))
from oci_image import BUILD_OCI  # noqa: E402  pylint: disable=wrong-import-position

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures",
                   "containerd_state.json")
ORPHAN = 900
MAKE = r"""set -e
mkdir -p /var/tmp/cs
truncate -s 1G /var/tmp/cs/data && truncate -s 64M /var/tmp/cs/meta
d=$(losetup -f --show /var/tmp/cs/data); m=$(losetup -f --show /var/tmp/cs/meta)
dd if=/dev/zero of=$m bs=4096 count=1 status=none
dmsetup create cs-pool --table "0 $(blockdev --getsz $d) thin-pool $m $d 128 32768 1 skip_block_zeroing"
cp -a /etc/containerd/config.toml /var/tmp/cs/config.toml.orig
cat > /etc/containerd/config.toml <<'EOF'
version = 2
[plugins."io.containerd.snapshotter.v1.devmapper"]
  pool_name = "cs-pool"
  root_path = "/var/tmp/cs/state"
  base_image_size = "64MB"
EOF
systemctl restart containerd
for i in $(seq 30); do ctr plugins ls | grep -q 'devmapper.*ok' && break; sleep 1; done
ctr plugins ls | grep devmapper
"""
USE = r"""set -e
ctr images import --snapshotter devmapper /var/tmp/cs/bb.tar
ctr run --rm --snapshotter devmapper localhost/cs:1 gone /bin/sh -c 'echo x > /tmp/x' </dev/null
ctr run -d --snapshotter devmapper localhost/cs:1 kept /bin/sleep 600 </dev/null
ctr tasks kill -s KILL kept; sleep 1
ctr snapshots --snapshotter devmapper ls
dmsetup message cs-pool 0 "create_thin %d"
""" % ORPHAN
IDS = r"""set -e
systemctl stop containerd
dmsetup message cs-pool 0 reserve_metadata_snap
thin_dump -m $(losetup -j /var/tmp/cs/meta | cut -d: -f1) | grep -o 'dev_id="[0-9]*"'
dmsetup message cs-pool 0 release_metadata_snap
"""
CLEAN = r"""ctr tasks kill -s KILL kept; ctr tasks rm -f kept; ctr containers rm kept gone
ctr images rm --sync localhost/cs:1
systemctl stop containerd
cp -a /var/tmp/cs/config.toml.orig /etc/containerd/config.toml
for x in $(dmsetup ls --target thin | awk '{print $1}'); do dmsetup remove $x; done
dmsetup remove cs-pool
for f in data meta; do losetup -j /var/tmp/cs/$f | cut -d: -f1 | xargs -r losetup -d; done
rm -rf /var/tmp/cs
ctr -n default containers ls -q | xargs -r ctr containers rm 2>/dev/null
systemctl restart containerd
"""


def sh(command, stdin=None, check=True):
    proc = LAB.run(GUEST, command, timeout=600, input_text=stdin)
    if check and proc.returncode:
        raise SystemExit("%s: rc %d\n%s\n%s" % (command, proc.returncode, proc.stdout,
                                                proc.stderr))
    return proc.stdout


def main():
    try:
        sh("bash -s", MAKE)
        sh("python3 - localhost/cs:1 /var/tmp/cs/bb.tar", BUILD_OCI)
        listed = sh("bash -s", USE)
        snapshots = sh("ctr snapshots --snapshotter devmapper ls")
        version = sh("containerd --version").strip()
        ids = sorted(int(i) for i in re.findall(r'dev_id="(\d+)"', sh("bash -s", IDS)))
        state = sh("base64 -w0 /var/tmp/cs/state/cs-pool.db")
    finally:
        sh("bash -s", CLEAN, check=False)
    db = base64.b64decode(state)
    with open(OUT, "w") as handle:
        json.dump({"containerd_version": version, "snapshots": snapshots,
                   "use": listed, "pool_thin_ids": ids, "orphan_id": ORPHAN,
                   "metadata_db_gzip_base64": base64.b64encode(gzip.compress(db, 9, mtime=0))
                   .decode("ascii"), "metadata_db_size": len(db)},
                  handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(version, ids, len(db))
    print(snapshots)


if __name__ == "__main__":
    main()
