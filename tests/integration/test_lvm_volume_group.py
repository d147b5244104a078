"""lvm_volume_group on a real kernel: a VG from two disks four ways, a third disk joins it later;
refusals (filesystem, partition table, mounted, PV of another VG, no such device) change nothing;
force wipes; an orphan PV is taken as it is."""

import pytest

from conftest import EVERY_RELEASE

# LVM, loop devices and filesystems differ between releases: every test here runs on each.
pytestmark = EVERY_RELEASE

VG = "devmapper.storage.lvm_volume_group"
MBR = ("python3 -c \"import struct; f=open('/dev/ubdd','r+b'); f.seek(446); "
       "f.write(struct.pack('<BBBBBBBBII', 0, 0, 2, 0, 0x83, 0, 0, 0, 2048, 4096)); "
       "f.seek(510); f.write(b'\\x55\\xaa'); f.close()\"")


def state_of(guest):
    return guest.out("pvs -o pv_name,vg_name,pv_uuid 2>&1; vgs -o vg_name,pv_count,vg_size 2>&1; "
                     "for d in /dev/ubdb /dev/ubdc /dev/ubdd; do wipefs -n $d 2>&1; done; "
                     "findmnt -rn -o SOURCE,TARGET /mnt/x 2>&1 || true")


@pytest.mark.disks("1G", "1G", "512M")
def test_vg_made_four_ways_then_grown_by_a_third_disk(fresh_disks):
    g = fresh_disks
    args = {"vg": "docker", "devices": ["/dev/ubdb", "/dev/ubdc"]}
    untouched = state_of(g)
    check = g.module(VG, args, check=True, diff=True)
    assert check["changed"] is True and check["vg"] is None, check
    assert check["diff"]["after"]["pvs"] == ["/dev/ubdb", "/dev/ubdc"]
    assert state_of(g) == untouched
    real = g.module(VG, args, diff=True)
    assert real["changed"] is True and not real.get("failed"), real
    assert [a["cmd"] for a in real["actions"]] == [a["cmd"] for a in check["actions"]]
    assert real["vg"]["pvs"] == ["/dev/ubdb", "/dev/ubdc"] and real["vg"]["pv_count"] == 2
    again = g.module(VG, args)
    assert again["changed"] is False and again["actions"] == [], again
    assert g.module(VG, args, check=True)["changed"] is False

    grown = g.module(VG, {"vg": "docker", "devices": ["/dev/ubdb", "/dev/ubdc", "/dev/ubdd"]})
    assert grown["changed"] and grown["devices_added"] == ["/dev/ubdd"], grown
    assert grown["actions"][-1]["cmd"].endswith("vgextend docker /dev/ubdd")
    assert grown["vg"]["size"] > real["vg"]["size"]
    assert g.module(VG, {"vg": "docker", "devices": ["/dev/ubdb", "/dev/ubdc", "/dev/ubdd"]})[
        "changed"] is False
    # a disk left out of the list stays in the VG, with a warning
    shorter = g.module(VG, {"vg": "docker", "devices": ["/dev/ubdb"]})
    assert shorter["changed"] is False and shorter["vg"]["pv_count"] == 3
    assert any("does not shrink" in w for w in shorter.get("warnings", [])), shorter


@pytest.mark.disks("1G", "1G", "512M")
def test_refusals_touch_nothing_and_force_wipes(fresh_disks):
    g = fresh_disks
    g.sh("mkfs.xfs -q -f /dev/ubdb && vgcreate -q other /dev/ubdc")
    cases = [
        ("/dev/ubdb", "carries xfs filesystem"),
        ("/dev/ubdc", "physical volume of volume group other"),
        ("/dev/nonexistent", "does not exist"),
    ]
    for device, words in cases:
        before = state_of(g)
        result = g.module(VG, {"vg": "docker", "devices": [device]})
        assert result.get("failed") and result["changed"] is False, result
        assert result["msg"].startswith("devices: %s" % device) and words in result["msg"], result
        assert state_of(g) == before
    g.sh(MBR)
    result = g.module(VG, {"vg": "docker", "devices": ["/dev/ubdd"]})
    assert "dos partition table" in result["msg"] and "force=true" in result["msg"], result
    g.sh("wipefs -q -a /dev/ubdd && mkfs.ext4 -q -F /dev/ubdd && mkdir -p /mnt/x && "
         "mount /dev/ubdd /mnt/x")
    before = state_of(g)
    result = g.module(VG, {"vg": "docker", "devices": ["/dev/ubdd"], "force": True})
    assert result.get("failed") and result["changed"] is False, result
    assert "in use (/dev/ubdd on /mnt/x)" in result["msg"] and "unmount" in result["msg"]
    assert state_of(g) == before
    # a refusal of one device stops the others too
    result = g.module(VG, {"vg": "docker", "devices": ["/dev/ubdb", "/dev/ubdd"]})
    assert result.get("failed") and "xfs" in result["msg"]
    assert state_of(g) == before

    g.sh("umount /mnt/x && vgremove -q -y other")      # /dev/ubdc: an orphan PV now
    forced = g.module(VG, {"vg": "docker", "devices": ["/dev/ubdb", "/dev/ubdc"], "force": True})
    assert forced["changed"] and not forced.get("failed"), forced
    cmds = [a["cmd"] for a in forced["actions"]]
    assert cmds[0].endswith("wipefs --all /dev/ubdb")
    assert not any("pvcreate --yes /dev/ubdc" in c for c in cmds)      # orphan PV as it is
    assert "xfs" not in g.out("blkid -p /dev/ubdb || true")
    assert g.out("vgs --noheadings -o pv_count docker").strip() == "2"
