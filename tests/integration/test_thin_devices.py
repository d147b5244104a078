"""dm_base_device and dm_snapshot on a real kernel, on a loop-backed pool made by the collection:
create/format once/grow with the filesystem, snapshot an active origin (suspend/resume), activate
the snapshot, the kernel's refusals as sentences, deletion only with force."""

import pytest

from conftest import EVERY_RELEASE

# LVM, loop devices and filesystems differ between releases: every test here runs on each.
pytestmark = EVERY_RELEASE

MiB = 1 << 20
BASE = "devmapper.storage.dm_base_device"
SNAP = "devmapper.storage.dm_snapshot"


def state_of(g):
    return g.out("dmsetup table; dmsetup status")


def four_ways(g, module, args):
    untouched = state_of(g)
    check = g.module(module, args, check=True, diff=True)
    assert check.get("changed") is True and not check.get("failed"), check
    assert state_of(g) == untouched
    assert check["diff"]["before"] != check["diff"]["after"]
    real = g.module(module, args, diff=True)
    assert real["diff"]["before"] != real["diff"]["after"], real
    assert real.get("changed") is True and not real.get("failed"), real
    assert [a["cmd"] for a in real["actions"]] == [a["cmd"] for a in check["actions"]]
    again = g.module(module, args)
    assert again.get("changed") is False and not again.get("failed"), again
    assert g.module(module, args, check=True).get("changed") is False
    return real


def superblock(g, pool="tp"):
    """The digest of the pool's metadata superblock as the device holds it (O_DIRECT: the kernel's
    writes bypass the page cache). Every commit of the pool's metadata rewrites it, even the
    two of a metadata snapshot taken and released, which leave `dmsetup status` as it was."""
    meta = g.out("dmsetup table %s" % pool).split()[3]
    return g.out("dd if=/dev/block/%s bs=4096 count=1 iflag=direct status=none | sha256sum"
                 % meta)


def check_mode_sends_no_message(g, module, args):
    """Check mode reads which ids the pool holds from its metadata device: not even a pool
    transaction (before issue 14 it took a metadata snapshot when the id was not active)."""
    before = superblock(g)
    result = g.module(module, args, check=True)
    assert result.get("changed") is True and not result.get("failed"), result
    assert superblock(g) == before, "check mode committed the pool's metadata"


def refused(g, module, args, message):
    untouched = state_of(g)
    result = g.module(module, args)
    assert result.get("failed") and message in result["msg"], (args, result)
    assert result["changed"] is False and state_of(g) == untouched


@pytest.mark.parametrize("fs_type", ["xfs", "ext4"])
@pytest.mark.disks("64M")
def test_base_device_and_snapshots(fresh_disks, fs_type):
    g = fresh_disks
    g.sh("mkdir -p /var/lib/tp && modprobe dm_thin_pool")
    loops = g.module("devmapper.storage.loop_pool",
                     {"data_file": "/var/lib/tp/data", "metadata_file": "/var/lib/tp/meta",
                      "data_size": "1G", "metadata_size": "16M"})
    pool = g.module("devmapper.storage.dm_thinpool",
                    {"backend": "dm", "name": "tp", "data_device": loops["data"]["loop_device"],
                     "metadata_device": loops["metadata"]["loop_device"]})
    assert pool["changed"], pool

    args = {"pool": "tp", "name": "tp-base", "size": "512M", "fs_type": fs_type}
    check_mode_sends_no_message(g, BASE, args)
    made = four_ways(g, BASE, args)
    assert made["fs_type"] == fs_type and len(made["uuid"]) == 36 and made["size"] == 512 * MiB
    assert g.out("blkid -o value -s UUID /dev/mapper/tp-base").strip() == made["uuid"]
    if fs_type == "ext4":
        assert "Maximum mount count:      -1" in g.out("tune2fs -l /dev/mapper/tp-base")

    # ext4 zeroes the inode tables of the groups a resize adds in the background (ext4lazyinit):
    # the pool's usage would move under the refusals' before/after comparison below
    options = "-o noinit_itable" if fs_type == "ext4" else ""
    g.sh("mkdir -p /mnt/b && mount %s /dev/mapper/tp-base /mnt/b && head -c 4M /dev/urandom > "
         "/mnt/b/f && sync" % options)
    digest = g.out("md5sum /mnt/b/f")
    grown = four_ways(g, BASE, dict(args, size="768M"))
    assert grown["uuid"] == made["uuid"]
    assert int(g.out("blockdev --getsize64 /dev/mapper/tp-base")) == 768 * MiB
    fs_bytes = int(g.out("df -B1 --output=size /mnt/b | tail -1"))
    assert fs_bytes > 600 * MiB, "the filesystem did not grow with the device"
    assert g.out("md5sum /mnt/b/f") == digest
    if fs_type == "xfs":
        # unmounted, XFS is mounted for the grow (on bullseye too: no mount --mkdir there)
        g.sh("umount /mnt/b")
        g.module(BASE, dict(args, size="832M"))
        g.sh("mount /dev/mapper/tp-base /mnt/b")
        assert int(g.out("df -B1 --output=size /mnt/b | tail -1")) > 700 * MiB
        args["size"] = "832M"
    else:
        args["size"] = "768M"

    # a run that grew the device and stopped before the filesystem (the table reloaded larger,
    # as the module loads it): the next run, asked for that size, grows the filesystem into it
    size = int(args["size"][:-1]) + 192
    table = g.out("dmsetup table tp-base").split()
    g.sh("dmsetup suspend tp-base && dmsetup reload tp-base --table '0 %d %s' && "
         "dmsetup resume tp-base" % (size * MiB // 512, " ".join(table[2:])))
    before = int(g.out("df -B1 --output=size /mnt/b | tail -1"))
    args["size"] = "%dM" % size
    caught_up = g.module(BASE, args)
    assert caught_up["changed"] and any("unused: the device was grown without it" in a["why"]
                                        for a in caught_up["actions"]), caught_up
    assert int(g.out("df -B1 --output=size /mnt/b | tail -1")) > before + 128 * MiB
    assert g.out("md5sum /mnt/b/f") == digest
    assert g.module(BASE, args)["changed"] is False
    refused(g, BASE, dict(args, size="256M"), "size: refusing to shrink")
    refused(g, BASE, dict(args, fs_type="ext4" if fs_type == "xfs" else "xfs"), "fs_type")
    refused(g, BASE, dict(args, device_id=1 << 24), "device_id")
    refused(g, BASE, dict(args, name="tp-base", device_id=5), "is already thin id 0")

    # snapshot the active, mounted origin; the snapshot holds the same file
    snap = {"pool": "tp", "origin_id": 0, "snapshot_id": 1, "name": "tp-snap"}
    check_mode_sends_no_message(g, SNAP, snap)
    taken = four_ways(g, SNAP, snap)
    assert [a["cmd"].split()[1] for a in taken["actions"]] == \
        ["suspend", "message", "resume", "create"]
    assert taken["thin_ids"] == [0, 1]
    assert taken["active_devices"]["tp-snap"]["sectors"] == int(args["size"][:-1]) * MiB // 512
    opts = "-o ro,nouuid" if fs_type == "xfs" else "-o ro"
    g.sh("mkdir -p /mnt/s && mount %s /dev/mapper/tp-snap /mnt/s" % opts)
    assert g.out("md5sum /mnt/s/f").split()[0] == digest.split()[0]
    g.sh("umount /mnt/s")

    refused(g, SNAP, dict(snap, snapshot_id=2, origin_id=9, name="tp-other"),
            "origin_id: thin id 9 does not exist")
    refused(g, SNAP, dict(snap, snapshot_id=2), "name: /dev/mapper/tp-snap is already thin id 1")
    refused(g, SNAP, {"pool": "tp", "snapshot_id": 1, "state": "absent"},
            "thin id 1 is active as /dev/mapper/tp-snap")
    refused(g, SNAP, dict(snap, state="absent"), "set force=true")
    refused(g, SNAP, {"pool": "nosuch", "snapshot_id": 3, "origin_id": 0}, "pool: no")
    gone = four_ways(g, SNAP, dict(snap, state="absent", force=True))
    assert gone["thin_ids"] == [0] and "tp-snap" not in gone["active_devices"]

    g.sh("umount /mnt/b")
    refused(g, BASE, {"pool": "tp", "name": "tp-base", "state": "absent"}, "set force=true")
    four_ways(g, BASE, {"pool": "tp", "name": "tp-base", "state": "absent", "force": True})
    # the info module sends the pool no message (its metadata superblock is the same after it);
    # the thin ids only with read_metadata, read from the metadata device
    status, sealed = g.out("dmsetup status tp"), superblock(g)
    info = g.module(SNAP + "_info", {"pool": "tp"})
    assert info["changed"] is False and info["thin_ids"] is None
    assert info["thin_ids_why"].startswith("not listed") and info["active_devices"] == {}
    info = g.module(SNAP + "_info", {"pool": "tp", "read_metadata": True}, check=True)
    assert info["thin_ids"] == [] and info["active_devices"] == {}
    assert g.out("dmsetup status tp") == status and superblock(g) == sealed
