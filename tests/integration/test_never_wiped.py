"""lvm_volume_group never wipes a disk that belongs to something, force or not (issue 14, D2), on
a real guest: a LUKS volume, a physical volume that pvs does not list (hidden by an LVM filter: an
older VG, or another host's), a disk whose partition is a physical volume, of an active and of an
inactive volume group, and a disk whose partition is a LUKS volume. Each is refused naming what it
is, with changed=false and the disks as they were."""

import pytest

VG = "devmapper.storage.lvm_volume_group"
# One release: the decisions are the module's; blkid, pvs and sysfs say the same on each.
pytestmark = pytest.mark.parametrize("release", ["bookworm"], indirect=True)

# a LUKS1 header (magic, version, cipher, mode, hash, UUID), as blkid detects it: the image has no
# cryptsetup to format one
LUKS_HEADER = ("python3 -c \"f=open('/dev/ubdb','r+b'); f.write(b'LUKS\\xba\\xbe\\x00\\x01'); "
               "f.write(b'aes'.ljust(32,b'\\0')); f.write(b'xts-plain64'.ljust(32,b'\\0')); "
               "f.write(b'sha256'.ljust(32,b'\\0')); f.seek(168); "
               "f.write(b'12345678-1234-1234-1234-123456789abc'); f.close()\"")
# one partition from sector 2048, 96 MiB, type 8e, on a loop device over a file (losetup -P)
PARTITIONED = r"""set -e
truncate -s 128M /var/tmp/ppv.img
python3 -c "
import struct
f = open('/var/tmp/ppv.img', 'r+b')
f.seek(446); f.write(struct.pack('<BBBBBBBBII', 0, 0, 2, 0, 0x8e, 0, 0, 0, 2048, 196608))
f.seek(510); f.write(b'\x55\xaa'); f.close()"
d=$(losetup -P -f --show /var/tmp/ppv.img); udevadm settle
pvcreate -q ${d}p1 && vgcreate -q inact ${d}p1 && lvcreate -q -L 8M -n lv inact
echo $d
"""


def disks(g, *paths):
    return g.out("pvs -o pv_name,vg_name 2>&1; for d in %s; do wipefs -n $d 2>&1; done"
                 % " ".join(paths))


def refused(g, device, words, *watched):
    before = disks(g, *watched)
    result = g.module(VG, {"vg": "docker", "devices": [device], "force": True})
    assert result.get("failed") and result["changed"] is False, result
    assert result["msg"].startswith("devices: ") and words in result["msg"], result
    assert "force does not override this" in result["msg"], result["msg"]
    assert disks(g, *watched) == before
    return result["msg"]


@pytest.mark.disks("256M", "256M")
def test_members_of_something_else_are_never_wiped(fresh_disks):
    g = fresh_disks
    g.sh(LUKS_HEADER)
    refused(g, "/dev/ubdb", "is a LUKS-encrypted volume", "/dev/ubdb")

    # a PV of a VG that LVM's filter hides: pvs does not list it, blkid sees LVM2_member
    g.sh("pvcreate -q /dev/ubdc && vgcreate -q hidden /dev/ubdc && vgchange -q -an hidden && "
         "cp /etc/lvm/lvm.conf /root/lvm.conf.bak && printf 'devices {\\n\\tglobal_filter = "
         "[ \"r|^/dev/ubdc$|\" ]\\n}\\n' >> /etc/lvm/lvm.conf")
    try:
        assert "/dev/ubdc" not in g.out("pvs -o pv_name")
        refused(g, "/dev/ubdc", "is an LVM physical volume that pvs does not list", "/dev/ubdc")
    finally:
        g.sh("cp /root/lvm.conf.bak /etc/lvm/lvm.conf && vgremove -q -y hidden")

    # a disk whose partition is a PV: of an active VG (held), then of an inactive one, which
    # force=true wiped (the disk's partition table) before the fix
    disk = g.out("bash -s <<'EOF'\n%sEOF" % PARTITIONED).strip().splitlines()[-1]
    try:
        assert g.out("lsblk -rno NAME %s" % disk).split() == [
            disk[5:], disk[5:] + "p1", "inact-lv"]
        refused(g, disk, "partitions of %s are in use (%sp1 held by" % (disk, disk[5:]), disk)
        g.sh("vgchange -q -an inact")
        refused(g, disk, "has partitions that are LVM physical volumes: %sp1 (volume group "
                "inact)" % disk, disk)
        assert g.out("lvs --noheadings -o lv_name inact").split() == ["lv"]
        # a disk whose partition is a LUKS volume (not open: nothing holds it), which force=true
        # wiped (the disk's partition table) before the fix
        g.sh("vgremove -q -y inact && pvremove -q -y {0}p1 && {1}".format(
            disk, LUKS_HEADER.replace("/dev/ubdb", disk + "p1")))
        refused(g, disk, "has a partition that wiping it would destroy: %sp1 is a LUKS-encrypted "
                "volume" % disk, disk, disk + "p1")
    finally:
        g.sh("vgremove -q -y inact 2>/dev/null; losetup -d %s; rm -f /var/tmp/ppv.img" % disk)
