"""dm_thinpool_repair on a real kernel (issue 18): a pool with three thin devices of known bytes,
taken down, the mapping tree of the middle one overwritten in its metadata
(tests/thin_superblock.py). thin_check fails before; check mode lists the repair and changes
nothing; the repair keeps the damaged metadata, thin_check passes after, the pool comes back, and
the two devices whose trees were intact read back their bytes (the damaged one is gone, or reads
zeros). A
second run finds the metadata sound. LVM pools (lvconvert --repair) on bookworm and trixie; raw
pools over loop files on trixie's thin-provisioning-tools 1.x (test_docker_install repairs one on
bookworm's 0.9 under Docker)."""

import pytest

from thin_superblock import damage_mapping_tree

REPAIR = "devmapper.storage.dm_thinpool_repair"
# three thin devices of 8 MiB of random bytes each; their checksums on lines "SUM ..."
LVM_POOL = r"""set -e
pvcreate -q /dev/ubdb; vgcreate -q vgr /dev/ubdb
lvcreate -q --type thin-pool -L 256M --poolmetadatasize 8M -n pool vgr
for i in 0 1 2; do
    lvcreate -q -V 64M --thin vgr/pool -n t$i
    dd if=/dev/urandom of=/dev/vgr/t$i bs=1M count=8 oflag=direct status=none
    echo SUM $(sha256sum /dev/vgr/t$i | cut -d' ' -f1)
done
vgchange -q -an vgr
"""
RAW_POOL = r"""set -e
modprobe dm_thin_pool
mkdir -p /var/lib/rp && cd /var/lib/rp
truncate -s 256M data; truncate -s 16M meta
D=$(losetup -f --show data); M=$(losetup -f --show meta)
dmsetup create rp-pool --table "0 $((256*2048)) thin-pool $M $D 128 0 1 skip_block_zeroing"
for i in 0 1 2; do
    dmsetup message rp-pool 0 "create_thin $i"
    dmsetup create rp-t$i --table "0 $((64*2048)) thin /dev/mapper/rp-pool $i"
    dd if=/dev/urandom of=/dev/mapper/rp-t$i bs=1M count=8 oflag=direct status=none
    echo SUM $(sha256sum /dev/mapper/rp-t$i | cut -d' ' -f1)
    udevadm settle; dmsetup remove rp-t$i
done
dmsetup remove rp-pool
"""
ZEROS_64M = "3b6a07d0d404fab4e23b6d34bc6696a6a312dd92821332385e5af7c01c421351"
# where an inactive LVM pool's metadata lies on its PV: the bytes the test damages in place
TMETA_AT = ("echo $(( $(pvs --noheadings --units b --nosuffix -o pe_start /dev/ubdb) + "
            "$(lvs -a --noheadings -o seg_pe_ranges vgr/pool_tmeta | cut -d: -f2 | cut -d- -f1) * "
            "$(vgs --noheadings --units b --nosuffix -o vg_extent_size vgr) ))")


def made(g, script):
    """Run a script above; the checksums it printed."""
    out = g.lab.run(g.record, "bash -s", check=True, input_text=script).stdout
    return [line.split()[1] for line in out.splitlines() if line.startswith("SUM ")]


def after_repair(g, activate, device):
    """What a device is after the repair: None when it is gone (its activation fails,
    ENODATA), else its checksum (every byte read)."""
    if g.sh(activate, check=False).returncode != 0:
        return None
    return g.out("sha256sum %s" % device).split()[0]


def damage_lvm(g, thin_id):
    offset = int(g.out(TMETA_AT))
    g.sh("dd if=/dev/ubdb of=/root/tmeta bs=1M count=8 iflag=skip_bytes skip=%d status=none"
         % offset)
    damage_mapping_tree(g, "/root/tmeta", thin_id)
    g.sh("dd if=/root/tmeta of=/dev/ubdb bs=1M count=8 oflag=seek_bytes,direct conv=notrunc "
         "seek=%d status=none && rm /root/tmeta" % offset)


@pytest.mark.parametrize("release", ["bookworm", "trixie"], indirect=True)
@pytest.mark.disks("1G")
def test_an_lvm_pool_is_repaired_with_lvconvert_and_its_damaged_metadata_kept(
        fresh_disks, release):
    g = fresh_disks
    sums = made(g, LVM_POOL)
    ids = [int(g.out("lvs --noheadings -o thin_id vgr/t%d" % i)) for i in range(3)]
    damage_lvm(g, ids[1])
    assert g.sh("lvchange -ay vgr/pool", check=False).returncode != 0
    args = {"vg": "vgr", "name": "pool"}
    lvs = "lvs -a --noheadings -o lv_name,lv_attr vgr"
    before = g.out(lvs)

    check = g.module(REPAIR, args, check=True)
    assert check["changed"] and not check["sound"], check
    # thin-provisioning-tools 0.9: "thin device 2 is missing mappings"; 1.x: "Thin device 2 is
    # missing root with 128 mappings"
    assert "thin device %d is missing" % ids[1] in check["check_output"].lower(), check
    assert [a["cmd"].split()[0].split("/")[-1] for a in check["actions"]] == [
        "lvchange", "truncate", "thin_repair", "compare", "lvchange", "rm", "lvconvert"], check
    assert g.out(lvs) == before                       # the component is deactivated again

    done = g.module(REPAIR, args)
    if done.get("failed"):
        # refused after the trial, naming the intact device thin_repair dropped
        assert done["msg"].startswith("force: thin_repair dropped thin devices %d, " % ids[2])
        # the pool as it was, its metadata component down again; the trial's copy kept
        assert g.out(lvs) == before
        g.sh("test -s /var/tmp/dm_thinpool_repair-vgr-pool.tmeta")
        done = g.module(REPAIR, dict(args, force=True))
        third = None
    else:
        third = sums[2]
    assert done["changed"] and done["kept"] == "vgr/pool_meta0", done
    assert after_repair(g, "lvchange -ay vgr/t0", "/dev/vgr/t0") == sums[0]
    assert after_repair(g, "lvchange -ay vgr/t2", "/dev/vgr/t2") == third
    damaged = after_repair(g, "lvchange -ay vgr/t1", "/dev/vgr/t1")
    if release == "bookworm":
        assert third == sums[2] and damaged == ZEROS_64M
    # the damaged metadata is kept as an LV of its own, and still fails thin_check
    g.sh("lvchange -ay vgr/pool_meta0")
    assert g.sh("thin_check /dev/vgr/pool_meta0", check=False).returncode != 0
    again = g.module(REPAIR, args)
    assert again["changed"] is False and again["sound"] and again["actions"] == [], again


@pytest.mark.parametrize("release", ["trixie"], indirect=True)
def test_a_raw_pool_metadata_file_is_repaired_and_swapped_with_the_damaged_one_kept(fresh_disks):
    g = fresh_disks
    sums = made(g, RAW_POOL)
    damage_mapping_tree(g, "/var/lib/rp/meta", 1)
    assert g.sh("thin_check /var/lib/rp/meta", check=False).returncode != 0
    args = {"backend": "dm", "name": "rp-pool", "metadata_file": "/var/lib/rp/meta"}
    meta = "sha256sum /var/lib/rp/meta; losetup -l -n -O NAME,BACK-FILE"
    before = g.out(meta)

    check = g.module(REPAIR, args, check=True)
    assert check["changed"] and not check["sound"], check
    assert [a["cmd"].split()[0].split("/")[-1] for a in check["actions"]] == [
        "thin_dump", "truncate", "thin_repair", "thin_check", "compare", "losetup", "mv",
        "mv"], check
    assert g.out(meta) == before

    # thin_repair 1.1.0 drops device 2 with 1: refused before the pool's files are touched
    done = g.module(REPAIR, args)
    third = sums[2]
    if done.get("failed"):
        assert done["msg"].startswith(
            "force: thin_repair dropped thin devices 2, which thin_check did not name as "
            "damaged (it named 1); nothing of the pool was changed"), done
        assert g.out(meta) == before
        done = g.module(REPAIR, dict(args, force=True))
        third = None
    assert done["changed"] and done["kept"].startswith("/var/lib/rp/meta.damaged-"), done
    assert g.out("sha256sum %s" % done["kept"]).split()[0] == before.split()[0]
    assert g.sh("test -s %s.xml && thin_check /var/lib/rp/meta" % done["kept"]).returncode == 0
    g.sh("cd /var/lib/rp && M=$(losetup -f --show meta) && D=$(losetup -j data -O NAME -n) && "
         "dmsetup create rp-pool --table \"0 $((256*2048)) thin-pool $M $D 128 0 1 "
         "skip_block_zeroing\"")
    thin = "dmsetup create rp-t%d --table '0 131072 thin /dev/mapper/rp-pool %d'"
    assert after_repair(g, thin % (0, 0), "/dev/mapper/rp-t0") == sums[0]
    assert after_repair(g, thin % (2, 2), "/dev/mapper/rp-t2") == third
    after_repair(g, thin % (1, 1), "/dev/mapper/rp-t1")       # gone, or read through
    g.sh("for i in 0 1 2; do dmsetup remove rp-t$i 2>/dev/null; done; true")
    again = g.module(REPAIR, args)
    assert again["changed"] is False and again["sound"], again
