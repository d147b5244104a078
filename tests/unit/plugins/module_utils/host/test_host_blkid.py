"""host/blkid.py: blkid's and lsblk's command lines, and what it makes of their output captured in
guests (fixtures lvm_pool, no_pool and volume_group)."""

import json
import os

from ansible_collections.devmapper.storage.plugins.module_utils.host import blkid
from captured import FIXTURES, output
from fake_host import CapturedModule

with open(os.path.join(FIXTURES, "volume_group.json")) as _handle:
    VG_STATES = json.load(_handle)


def test_probe_of_a_filesystem():
    module = CapturedModule(output("lvm_pool", "blkid -p -o export /dev/docker/base"))
    found = blkid.BlockDevices(module).probe("/dev/docker/base")
    assert module.calls == [["/sbin/blkid", "-p", "-o", "export", "/dev/docker/base"]]
    assert (found["TYPE"], found["USAGE"]) == ("ext4", "filesystem")
    assert blkid.signatures(found) == ["ext4 filesystem"]


def test_nothing_found_is_empty_also_when_strict():
    record = output("no_pool", "blkid -p -o export /dev/ubdb")
    assert record["rc"] == blkid.NOTHING_FOUND
    assert blkid.BlockDevices(CapturedModule(record)).probe("/dev/ubdb") == {}
    assert blkid.BlockDevices(CapturedModule(record)).probe("/dev/ubdb", strict=True) == {}
    assert blkid.signatures({}) == []


def test_readable_signatures_of_captured_probes():
    for state, device, expected in (("vg_one_pv_orphan_pv_xfs", "/dev/ubdd", ["xfs filesystem"]),
                                    ("dos_partition_table", "/dev/ubdd", ["dos partition table"]),
                                    ("vg_one_pv_orphan_pv_xfs", "/dev/ubdc", ["LVM2_member"])):
        record = VG_STATES[state]["blkid -p -o export %s" % device]
        assert blkid.signatures(blkid.BlockDevices(CapturedModule(record)).probe(device)) == \
            expected


def test_mounted_reads_lsblk():
    command = "lsblk --json --paths --output NAME,MOUNTPOINT /dev/ubdd"
    module = CapturedModule(VG_STATES["mounted_ext4"][command])
    assert blkid.BlockDevices(module).mounted("/dev/ubdd") == ["/dev/ubdd on /mnt/x"]
    assert module.calls == [["/sbin/" + command.split()[0]] + command.split()[1:]]
