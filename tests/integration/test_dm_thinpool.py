"""dm_thinpool on a real kernel: LVM pools as the runbook makes them (create, grow after vgextend,
inactive/active, removal guarded by force) and raw pools over loop devices (create, online grow
under a mounted thin device, re-creation over existing metadata, removal)."""

import pytest

from conftest import EVERY_RELEASE
from thin_superblock import set_needs_check

# LVM, loop devices and filesystems differ between releases: every test here runs on each.
pytestmark = EVERY_RELEASE

MiB = 1 << 20
POOL = "devmapper.storage.dm_thinpool"
LOOPS = "devmapper.storage.loop_pool"


def snapshot(guest):
    return guest.out("dmsetup table; lvs -a 2>&1; vgs 2>&1; losetup --list --noheadings "
                     "-O NAME,BACK-FILE")


def four_ways(guest, module, args):
    untouched = snapshot(guest)
    check = guest.module(module, args, check=True, diff=True)
    assert check.get("changed") is True, check
    assert snapshot(guest) == untouched, "check mode changed the host"
    real = guest.module(module, args, diff=True)
    assert real.get("changed") is True, real
    assert [a["cmd"] for a in real["actions"]] == [a["cmd"] for a in check["actions"]]
    again = guest.module(module, args)
    assert again.get("changed") is False and again["actions"] == [], again
    again_check = guest.module(module, args, check=True)
    assert again_check.get("changed") is False, again_check
    return real


def refused(guest, module, args, message):
    before = snapshot(guest)
    result = guest.module(module, args)
    assert result.get("failed") is True, (args, result)
    assert message in result["msg"], (args, result["msg"])
    assert result.get("changed") is False
    assert snapshot(guest) == before, "a refused call changed the host"


@pytest.mark.disks("2G", "1G")
def test_lvm_pool_runbook_create_grow_after_vgextend_reactivate_remove(fresh_disks):
    g = fresh_disks
    g.sh("pvcreate -q /dev/ubdb && vgcreate -q docker /dev/ubdb")
    args = {"vg": "docker", "name": "thinpool"}
    made = four_ways(g, POOL, args)
    pool = made["pool"]
    assert pool["exists"] and pool["active"]
    assert pool["chunk_size"] == 512 << 10 and pool["block_size"] == 512 << 10
    assert pool["zero"] is False and "skip_block_zeroing" in pool["features"]
    assert pool["device"] == "/dev/mapper/docker-thinpool"
    vg_extents = int(g.out("vgs --noheadings -o vg_extent_count docker"))
    extent = int(g.out("vgs --noheadings --units b --nosuffix -o vg_extent_size docker"))
    assert pool["size"] == vg_extents * 95 // 100 * extent
    assert pool["data_total_bytes"] == pool["size"]
    assert pool["transaction_id"] == 0 and pool["thin_device_count"] == 0

    refused(g, POOL, dict(args, chunk_size="64K"), "chunk_size")
    refused(g, POOL, dict(args, data_size="100M"), "data_size: refusing to shrink")
    refused(g, POOL, dict(args, data_size="12X"), "data_size")
    refused(g, POOL, {"vg": "nosuch"}, "vg: volume group nosuch does not exist")
    refused(g, POOL, {"vg": "docker", "name": "thinpool", "data_device": "/dev/ubdc"},
            "data_device is for backend=dm")

    # the done criterion: grow an LVM pool after vgextend with a new disk, ad hoc
    g.sh("pvcreate -q /dev/ubdc && vgextend -q docker /dev/ubdc")
    grown = four_ways(g, POOL, dict(args, data_size="95%VG"))["pool"]
    vg_extents = int(g.out("vgs --noheadings -o vg_extent_count docker"))
    assert grown["size"] == vg_extents * 95 // 100 * extent > pool["size"]
    assert grown["data_total_bytes"] == grown["size"]

    # a thin volume in the pool: deactivation needs it inactive, removal needs force
    g.sh("lvcreate -q -V 64M -T docker/thinpool -n vol && lvchange -an docker/vol")
    off = four_ways(g, POOL, dict(args, state="inactive"))["pool"]
    assert off["exists"] and not off["active"]
    assert g.out("dmsetup ls").strip() in ("", "No devices found")
    on = four_ways(g, POOL, dict(args, state="active"))["pool"]
    assert on["active"] and on["thin_device_count"] == 1
    refused(g, POOL, dict(args, state="absent"), "holds thin volumes (vol)")
    gone = four_ways(g, POOL, dict(args, state="absent", force=True))["pool"]
    assert gone["exists"] is False
    assert "thinpool" not in g.out("lvs -a docker")


@pytest.mark.disks("1G")
def test_loop_pool_grows_online_under_a_mounted_thin_device_and_comes_back(fresh_disks):
    g = fresh_disks
    g.sh("mkdir -p /var/lib/lp && modprobe dm_thin_pool")
    files = {"data_file": "/var/lib/lp/data", "metadata_file": "/var/lib/lp/meta"}
    loops = g.module(LOOPS, dict(files, data_size="256M", metadata_size="16M"))
    assert not loops.get("failed"), loops
    args = {"backend": "dm", "name": "lp-pool", "data_device": loops["data"]["loop_device"],
            "metadata_device": loops["metadata"]["loop_device"]}
    pool = four_ways(g, POOL, args)["pool"]
    assert pool["data_total_bytes"] == 256 * MiB and pool["block_size"] == 64 << 10
    assert pool["low_water_mark"] == 32768 and pool["features"] == ["skip_block_zeroing"]
    table = g.out("dmsetup table lp-pool").split()
    assert table[2:] == ["thin-pool", pool["metadata_device"], pool["data_device"], "128",
                         "32768", "1", "skip_block_zeroing"]

    g.sh("dmsetup message lp-pool 0 'create_thin 0' && "
         "dmsetup create lp-thin --table '0 1048576 thin /dev/mapper/lp-pool 0' && "
         "mkfs.xfs -q /dev/mapper/lp-thin && mkdir -p /mnt/lp && mount /dev/mapper/lp-thin /mnt/lp"
         " && head -c 8M /dev/urandom > /mnt/lp/f && sync")
    digest = g.out("md5sum /mnt/lp/f")

    # the done criterion: ad-hoc growth of a loop pool while a thin device on it stays mounted
    grown_loops = g.module(LOOPS, dict(files, data_size="512M"))
    assert grown_loops["changed"] and grown_loops["data"]["loop_size"] == 512 * MiB
    reload = four_ways(g, POOL, args)
    assert [a["cmd"].split()[1] for a in reload["actions"]] == ["suspend", "reload", "resume"]
    assert reload["pool"]["data_total_bytes"] == 512 * MiB
    assert g.out("md5sum /mnt/lp/f") == digest
    assert g.out("findmnt -n -o SOURCE /mnt/lp").strip() == "/dev/mapper/lp-thin"

    refused(g, POOL, dict(args, state="inactive"), "in use by the thin devices lp-thin")
    refused(g, POOL, dict(args, block_size="128K"), "block_size")
    g.sh("umount /mnt/lp && dmsetup remove lp-thin")

    # inactive keeps the metadata; active re-creates the table over it after thin_check. The
    # kernel's needs_check flag, set here as a metadata error sets it, is cleared by a step of
    # the plan that says so (check mode lists it and leaves the flag); without it the pool came
    # back read-only, and before issue 14 the result never said
    four_ways(g, POOL, dict(args, state="inactive"))
    set_needs_check(g, args["metadata_device"])
    flag = "od -An -tu4 -j4 -N4 %s" % args["metadata_device"]
    assert int(g.out(flag)) & 1
    check = g.module(POOL, dict(args, state="active"), check=True)
    assert int(g.out(flag)) & 1, "check mode cleared the flag"
    back = four_ways(g, POOL, dict(args, state="active"))
    assert [a["cmd"] for a in back["actions"]] == [a["cmd"] for a in check["actions"]]
    assert back["actions"][0]["cmd"].endswith(
        "thin_check --clear-needs-check-flag -q %s" % args["metadata_device"])
    assert "clear the needs_check flag" in back["actions"][0]["why"]
    assert "existing metadata" in back["actions"][1]["why"]
    assert back["pool"]["needs_check"] is False and back["pool"]["read_only"] is False
    assert "needs_check" not in g.out("dmsetup status lp-pool")
    assert back["pool"]["data_used_bytes"] >= 8 * MiB
    g.sh("dmsetup create lp-thin --table '0 1048576 thin /dev/mapper/lp-pool 0' && "
         "mount -o ro /dev/mapper/lp-thin /mnt/lp")
    assert g.out("md5sum /mnt/lp/f") == digest
    g.sh("umount /mnt/lp && dmsetup remove lp-thin")

    # a read-only query sends the pool no message: its status (transaction id, metadata used) is
    # the same after it, and the thin devices are counted from the metadata device (before issue
    # 14 it took a metadata snapshot to count them, then it did not count them)
    status = g.out("dmsetup status lp-pool")
    info = g.module(POOL + "_info", {"backend": "dm", "name": "lp-pool"})
    assert info["changed"] is False and info["pool"]["thin_device_count"] == 1, info
    assert g.out("dmsetup status lp-pool") == status
    refused(g, POOL, {"backend": "dm", "name": "lp-pool", "state": "absent"},
            "holds thin devices [0]")
    gone = four_ways(g, POOL, {"backend": "dm", "name": "lp-pool", "state": "absent",
                               "force": True})
    assert gone["pool"]["exists"] is False
    # the metadata superblock was wiped: `active` has nothing to bring back
    refused(g, POOL, dict(args, state="active"), "holds no thin-pool metadata")


@pytest.mark.disks("256M", "64M")
def test_raw_pool_refuses_devices_with_data(fresh_disks):
    g = fresh_disks
    g.sh("modprobe dm_thin_pool && mkfs.ext4 -q /dev/ubdc && mkfs.ext4 -q /dev/ubdb")
    args = {"backend": "dm", "name": "raw", "data_device": "/dev/ubdb",
            "metadata_device": "/dev/ubdc"}
    refused(g, POOL, args, "metadata_device: /dev/ubdc holds data that is not thin-pool metadata")
    refused(g, POOL, dict(args, metadata_device="/dev/ubdb"), "must be different")
    refused(g, POOL, dict(args, data_device="/dev/nonesuch"), "data_device: /dev/nonesuch does")
    # (the argument spec's required_if: AnsibleModule's wording)
    refused(g, POOL, {"backend": "dm", "state": "present"}, "missing: name")
    refused(g, POOL, dict(args, block_size="96K"), "block_size")
    # zeros in the first 4 KiB, an ISO 9660 image's descriptor at 32 KiB: not an empty device
    # (before the fix the new pool's metadata overwrote it without force)
    g.sh("dd if=/dev/zero of=/dev/ubdc bs=64k count=1 oflag=direct 2>/dev/null && "
         "printf '\\001CD001\\001' | dd of=/dev/ubdc bs=1 seek=32768 conv=notrunc status=none "
         "&& blkid -p -o value -s TYPE /dev/ubdc | grep -qx iso9660")
    refused(g, POOL, args, "metadata_device: /dev/ubdc carries a iso9660 signature")
    g.sh("dd if=/dev/zero of=/dev/ubdc bs=64k count=1 oflag=direct 2>/dev/null")
    refused(g, POOL, args, "data_device: /dev/ubdb carries a ext4 signature")
    made = g.module(POOL, dict(args, force=True))
    assert made["changed"] and made["pool"]["exists"], made
    g.sh("dmsetup remove raw")


@pytest.mark.disks("1G")
def test_existing_lvs_converted_into_a_pool_with_force(fresh_disks):
    g = fresh_disks
    g.sh("pvcreate -q /dev/ubdb && vgcreate -q docker /dev/ubdb && "
         "lvcreate -q -y -n thinpool -l 80%VG docker && lvcreate -q -y -n thinpoolmeta -l 2%VG docker")
    args = {"vg": "docker", "name": "thinpool", "metadata_lv": "thinpoolmeta"}
    refused(g, POOL, {"vg": "docker", "name": "thinpool"}, "give metadata_lv")
    refused(g, POOL, args, "set force=true")
    converted = four_ways(g, POOL, dict(args, force=True))
    assert converted["actions"][0]["cmd"].split()[1:] == [
        "--yes", "--zero", "n", "--chunksize", "524288b", "--thinpool", "docker/thinpool",
        "--poolmetadata", "docker/thinpoolmeta"]
    assert converted["pool"]["chunk_size"] == 512 << 10 and converted["pool"]["active"]
    assert g.out("lvs --noheadings -o lv_attr docker/thinpool").strip()[0] == "t"
