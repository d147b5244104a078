"""Record real outputs of dmsetup, lvm, losetup, thin_ls and blkid for the parsers' unit tests.

Boots a bookworm test-host guest and walks it through known states (no pool, loop pool, loop pool
with thin devices and a snapshot, full pool, LVM pool, inactive LVM pool, Docker on the loop-lvm
pool it made itself, Docker's unit as shipped and with storage flags), and a trixie guest for its
Docker 26 (SUITES), and writes, per state,
tests/unit/fixtures/<state>.json: the kernel, LVM and tool versions, and for each command its argv,
exit code, stdout and stderr. Unit tests read these files; nobody edits them by hand.

    scripts/capture-fixtures [--keep] [STATE ...]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools", "testhost"))

from testhost import cleanup  # noqa: E402
from testhost import lab as lab_mod  # noqa: E402

OUT = os.path.join(REPO, "tests", "unit", "fixtures")
LAB = "capture"
MiB = 1 << 20

LVS_FIELDS = ("lv_name,vg_name,lv_attr,lv_size,pool_lv,origin,data_percent,metadata_percent,"
              "lv_metadata_size,chunk_size,seg_monitor,lv_profile,transaction_id,thin_id,"
              "lv_active,zero,discards,lv_dm_path,lv_kernel_major,lv_kernel_minor")

# What every state records. `{pool}` etc. are filled per state.
COMMON = [
    "dmsetup version",
    "dmsetup ls",
    "dmsetup info -c --noheadings --separator : -o name,uuid,blkdevname,major,minor,attr,open,"
    "segments,events",
    "dmsetup status",
    "dmsetup table",
    "losetup --json --list --output NAME,BACK-FILE,SIZELIMIT,OFFSET,AUTOCLEAR,RO,DIO,LOG-SEC",
    "pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size,pv_free,pv_uuid,"
    "dev_size",
    "vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size,"
    "vg_extent_count,vg_free_count,pv_count,lv_count,vg_uuid",
    "lvs -a --reportformat json --units b --nosuffix -o " + LVS_FIELDS,
    "lvs -o+seg_monitor",
    "blkid -p -o export /dev/ubdb",
    "blkid -p -o export /dev/ubdc",
]

# A one-file image made from the guest's busybox (the guests reach no registry)
IMPORT_IMAGE = ("d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ "
                "&& ln -s busybox $d/bin/sh && tar -C $d -c . | docker import - fx:img >/dev/null "
                "&& rm -rf $d")
ROOT_LISTING = "find /var/lib/docker -maxdepth 6 | sort"

SETUP = {
    "no_pool": [],
    "loop_pool": [
        "mkdir -p /var/lib/fx",
        "truncate -s 256M /var/lib/fx/data && truncate -s 16M /var/lib/fx/metadata",
        "losetup -f /var/lib/fx/data && losetup -f /var/lib/fx/metadata",
        "dd if=/dev/zero of=$(losetup -j /var/lib/fx/metadata -O NAME -n) bs=4096 count=1",
        "dmsetup create fx-pool --table \"0 $((256*2048)) thin-pool "
        "$(losetup -j /var/lib/fx/metadata -O NAME -n) $(losetup -j /var/lib/fx/data -O NAME -n) "
        "128 32768 1 skip_block_zeroing\"",
    ],
    "loop_pool_thins": [
        "dmsetup message fx-pool 0 'create_thin 0'",
        "dmsetup create fx-base --table '0 %d thin /dev/mapper/fx-pool 0'" % (512 * 2048),
        "mkfs.xfs -q /dev/mapper/fx-base && mkdir -p /mnt/fx && mount /dev/mapper/fx-base /mnt/fx",
        "head -c 24M /dev/urandom > /mnt/fx/payload && sync",
        "dmsetup suspend fx-base && dmsetup message fx-pool 0 'create_snap 1 0' && "
        "dmsetup resume fx-base",
        "dmsetup create fx-snap --table '0 %d thin /dev/mapper/fx-pool 1'" % (512 * 2048),
        "dmsetup message fx-pool 0 'set_transaction_id 0 3'",
        "dmsetup message fx-pool 0 reserve_metadata_snap",
    ],
    "loop_pool_full": [
        "umount /mnt/fx || true",
        "dmsetup message fx-pool 0 release_metadata_snap || true",
        "for d in fx-again fx-snap fx-base; do dmsetup remove $d || true; done",
        "dmsetup remove fx-pool",
        "truncate -s 32M /var/lib/fx/small && losetup -f /var/lib/fx/small",
        "truncate -s 8M /var/lib/fx/meta2 && losetup -f /var/lib/fx/meta2",
        "dd if=/dev/zero of=$(losetup -j /var/lib/fx/meta2 -O NAME -n) bs=4096 count=1",
        # error_if_no_space: writes past the end fail at once instead of queueing for 60 s.
        "dmsetup create fx-full --table \"0 $((32*2048)) thin-pool "
        "$(losetup -j /var/lib/fx/meta2 -O NAME -n) $(losetup -j /var/lib/fx/small -O NAME -n) "
        "128 0 2 skip_block_zeroing error_if_no_space\"",
        "dmsetup message fx-full 0 'create_thin 0'",
        "dmsetup create fx-fullthin --table '0 %d thin /dev/mapper/fx-full 0'" % (64 * 2048),
        "dd if=/dev/urandom of=/dev/mapper/fx-fullthin bs=1M count=40 oflag=direct 2>&1 | tail -1"
        " || true",
    ],
    "lvm_pool": [
        "dmsetup remove fx-fullthin && dmsetup remove fx-full",
        "pvcreate -q /dev/ubdb",
        "vgcreate -q docker /dev/ubdb",
        "lvcreate -q --wipesignatures y -n thinpool docker -l 95%VG",
        "lvcreate -q --wipesignatures y -n thinpoolmeta docker -l 1%VG",
        "lvconvert -q -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata "
        "docker/thinpoolmeta",
        "mkdir -p /etc/lvm/profile && printf 'activation {\\n  thin_pool_autoextend_threshold=80\\n"
        "  thin_pool_autoextend_percent=20\\n}\\n' > /etc/lvm/profile/docker-thinpool.profile",
        "lvchange -q --metadataprofile docker-thinpool docker/thinpool",
        "lvchange -q --monitor y docker/thinpool",
        "lvcreate -q -V 100M -T docker/thinpool -n base",
        "mkfs.ext4 -q -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 /dev/docker/base",
        "lvcreate -q -s -n snap1 docker/base",
    ],
    "lvm_pool_inactive": [
        "vgchange -q -an docker",
    ],
    # Docker's own loop-lvm pool, as dockerd makes it from daemon.json's storage-driver alone
    # (test hosts have no container networking, hence iptables and bridge)
    "docker_loop_lvm": [
        "systemctl stop docker.service docker.socket || true",
        "rm -rf /var/lib/docker && mkdir -p /etc/docker && printf '%s\\n' "
        "'{\"storage-driver\": \"devicemapper\", \"iptables\": false, \"bridge\": \"none\"}' "
        "> /etc/docker/daemon.json",
        "systemctl start docker.service",
    ],
    # Docker's unit as the package ships it, then with storage flags as admins give them: an
    # ExecStart drop-in (override.conf) and DOCKER_OPTS in /etc/default/docker
    "docker_unit": [],
    "docker_flags": [
        "mkdir -p /etc/systemd/system/docker.service.d && printf '%s\\n' '[Service]' "
        "'EnvironmentFile=-/etc/default/docker' 'ExecStart=' "
        "'ExecStart=/usr/sbin/dockerd -H fd:// -s devicemapper $DOCKER_OPTS' "
        "> /etc/systemd/system/docker.service.d/override.conf",
        "printf '%s\\n' '# admin: pool options' "
        "'DOCKER_OPTS=\"--storage-opt dm.basesize=20G --log-level=warn\"' > /etc/default/docker",
        "systemctl daemon-reload",
    ],
    # Docker's root as a stopped Docker leaves it: its own loop-lvm pool (daemon.json alone
    # again), an image and a container
    "docker_root": [
        "rm -f /etc/systemd/system/docker.service.d/override.conf /etc/default/docker "
        "&& systemctl daemon-reload && systemctl restart docker.service",
        IMPORT_IMAGE,
        "docker create --name keeper --network none fx:img sh",
        "systemctl stop docker.service docker.socket",
    ],
    # the same Docker on overlay2 (named: it would stay on the driver it finds data of), with an
    # image and a container of its own,
    # stopped (the devicemapper driver's image stays in the root, and its container is listed by
    # both: containers are not kept per driver)
    "docker_root_overlay2": [
        "printf '%s\\n' '{\"storage-driver\": \"overlay2\", \"iptables\": false, "
        "\"bridge\": \"none\"}' > /etc/docker/daemon.json "
        "&& systemctl restart docker.service",
        IMPORT_IMAGE,
        "docker create --name keeper2 --network none fx:img sh",
        "systemctl stop docker.service docker.socket",
    ],
    # Docker 26 of Debian trixie, which has no devicemapper driver (and whose image has the daemon
    # without the docker client), running on overlay2 as it does out of the box
    "docker_trixie": [
        "mkdir -p /etc/docker && printf '%s\\n' '{\"iptables\": false, \"bridge\": \"none\"}' "
        "> /etc/docker/daemon.json",
        "systemctl restart docker.service",
    ],
}
# The release of the guest a state is captured on (bookworm when not listed)
SUITES = {"docker_trixie": "trixie"}

EXTRA = {
    "loop_pool_thins": [
        "thin_ls --metadata-snap -o DEV,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES,TRANSACTION,"
        "CREATE_TIME,SNAP_TIME $(losetup -j /var/lib/fx/metadata -O NAME -n)",
        "blkid -p -o export /dev/mapper/fx-base",
        "dmsetup status fx-pool",
        "dmsetup table fx-pool",
        "dmsetup info -c --noheadings -o major,minor fx-pool",
        "dmsetup table --target thin",
        # the same pool with no metadata snapshot held (the second status of fx-pool)
        "dmsetup message fx-pool 0 release_metadata_snap",
        "dmsetup status fx-pool",
        "dmsetup message fx-pool 0 'create_thin 0'",
        "dmsetup message fx-pool 0 'delete 7'",
        "dmsetup message fx-pool 0 'create_snap 1 0'",
        "dmsetup create fx-again --table '0 %d thin /dev/mapper/fx-pool 0'" % (512 * 2048),
        "dmsetup remove fx-pool",
    ],
    "no_pool": ["dmsetup info -c --noheadings -o major,minor fx-pool"],
    "loop_pool": ["dmsetup status fx-pool", "dmsetup table fx-pool", "dmsetup info fx-pool",
                  "dmsetup info -c --noheadings -o major,minor fx-pool",
                  "losetup -j /var/lib/fx/data -O NAME -n"],
    "loop_pool_full": ["dmsetup status fx-full", "dmsetup status fx-fullthin"],
    "lvm_pool": ["dmsetup status docker-thinpool-tpool", "dmsetup table docker-thinpool-tpool",
                 "lvs --reportformat json --units b --nosuffix -o lv_name,seg_monitor,lv_profile "
                 "docker/thinpool", "blkid -p -o export /dev/docker/base",
                 "lvs -a -o+seg_monitor,lv_profile"],
    "lvm_pool_inactive": ["lvchange -ay docker/thinpool",
                          "dmsetup status docker-thinpool-tpool", "lvs -o lv_name,lv_active"],
    "docker_loop_lvm": ["systemctl is-active --quiet docker.service",
                        "docker info --format '{{json .}}'",
                        "systemctl stop docker.service docker.socket",
                        "systemctl is-active --quiet docker.service"],
    "docker_unit": ["systemctl cat docker.service", "cat /etc/default/docker",
                    "dockerd --version"],
    "docker_flags": ["systemctl cat docker.service", "cat /etc/default/docker"],
    "docker_root": [ROOT_LISTING, "cat /etc/docker/daemon.json",
                    "systemctl is-active --quiet docker.service"],
    "docker_root_overlay2": [ROOT_LISTING, "cat /etc/docker/daemon.json"],
    "docker_trixie": ["systemctl is-active --quiet docker.service",
                      "docker info --format '{{json .}}'", "systemctl cat docker.service",
                      "cat /etc/default/docker", "dockerd --version"],
}

ORDER = ["no_pool", "loop_pool", "loop_pool_thins", "loop_pool_full", "lvm_pool",
         "lvm_pool_inactive", "docker_loop_lvm", "docker_unit", "docker_flags", "docker_root",
         "docker_root_overlay2", "docker_trixie"]


def versions(lab, guest):
    def out(cmd):
        return lab.run(guest, cmd).stdout.strip()
    return {"kernel": out("uname -r"), "lvm": out("lvm version | head -1"),
            "dmsetup": out("dmsetup version | tr '\\n' ' '"),
            "thin_provisioning_tools": out("thin_ls --version"),
            "util_linux": out("losetup --version")}


def capture(lab, guest, meta, state):
    for cmd in SETUP[state]:
        lab.run(guest, cmd, check=True, timeout=300)
    records = []
    for cmd in COMMON + EXTRA.get(state, []):
        proc = lab.run(guest, "LC_ALL=C " + cmd, timeout=120)
        records.append({"command": cmd, "rc": proc.returncode, "stdout": proc.stdout,
                        "stderr": proc.stderr})
    doc = {"state": state, "setup": SETUP[state], "versions": meta, "commands": records}
    path = os.path.join(OUT, "%s.json" % state)
    with open(path + ".tmp", "w") as handle:
        json.dump(doc, handle, indent=1, sort_keys=True)
        handle.write("\n")
    os.rename(path + ".tmp", path)
    print("capture: %s: %d commands -> %s" % (state, len(records), os.path.relpath(path, REPO)))


def built_on(state, wanted):
    """Whether a state that is not recorded is set up all the same: a later wanted state of the
    same release builds on it."""
    suite = SUITES.get(state, "bookworm")
    return any(SUITES.get(w, "bookworm") == suite and ORDER.index(w) > ORDER.index(state)
               for w in wanted)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="leave the guest up afterwards")
    parser.add_argument("states", nargs="*", help="states to record (default: all, in order; "
                                                  "a state builds on the ones before it)")
    args = parser.parse_args()
    wanted = set(args.states or ORDER)
    unknown = wanted - set(ORDER)
    if unknown:
        parser.error("unknown states: %s (known: %s)" % (", ".join(sorted(unknown)),
                                                         ", ".join(ORDER)))
    cleanup.down(LAB)
    lab = lab_mod.Lab(LAB)
    guests = {}

    def guest_of(state):
        """The guest of the state's release, booted the first time it is needed (bookworm's
        walks through every state in order; another release's takes only its own)."""
        suite = SUITES.get(state, "bookworm")
        if suite not in guests:
            name = "fx" if suite == "bookworm" else "fx-" + suite
            lab.up([{"name": name, "disks": ["2G", "1G"], "suite": suite}])
            guest = lab.guest(name)
            lab.run(guest, "modprobe dm_thin_pool && modprobe loop", check=True)
            guests[suite] = (guest, versions(lab, guest))
        return guests[suite]
    try:
        os.makedirs(OUT, exist_ok=True)
        for state in ORDER:
            if state in wanted:
                capture(lab, *guest_of(state), state=state)
            elif built_on(state, wanted):
                for cmd in SETUP[state]:
                    lab.run(guest_of(state)[0], cmd, check=True, timeout=300)
    finally:
        if not args.keep:
            cleanup.down(LAB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
