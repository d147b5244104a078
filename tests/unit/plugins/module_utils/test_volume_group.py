"""The volume-group planner on real pvs/vgs/blkid/lsblk output captured in a guest
(tests/unit/fixtures/volume_group.json, made by scripts/lib/capture_volume_group.py)."""

import json
import os

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import volume_group as vgm
from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    parse_blkid_export,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host import blkid, lvm
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "volume_group.json")
with open(FIXTURE) as _handle:
    STATES = json.load(_handle)

PVS = "pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size"
VGS = ("vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size,"
       "pv_count docker")


class FakeModule(object):
    def get_bin_path(self, name, required=False):
        return "/sbin/" + name


IO = vgm.VolumeGroupIO(FakeModule())


def out(state, command):
    return STATES[state][command]["stdout"]


def readable(blkid_output):
    return blkid.signatures(parse_blkid_export(blkid_output))


def current(state):
    vgs = STATES[state][VGS]
    return {"pvs": lvm.parse_pvs(out(state, PVS)),
            "vg": lvm.parse_vg(vgs["stdout"]) if vgs["rc"] == 0 else None}


def probe(path, blkid_state=None, lsblk_state=None, exists=True, block=True, holders=()):
    dev = path
    signatures = []
    if blkid_state:
        result = STATES[blkid_state]["blkid -p -o export %s" % dev]
        signatures = readable(result["stdout"]) if result["rc"] == 0 else []
    mounted = []
    if lsblk_state:
        mounted = blkid.mounted_in_lsblk(
            out(lsblk_state, "lsblk --json --paths --output NAME,MOUNTPOINT %s" % dev))
    return {"path": path, "real": path, "exists": exists, "block": block,
            "signatures": signatures, "mounted": mounted, "holders": list(holders)}


def plan(state, devices, probes, force=False):
    params = {"vg": "docker", "devices": devices, "force": force}
    actions, added, left_out = vgm.plan_volume_group(IO, params, current(state), probes)
    return [" ".join(a.runner.argv(a.args)) for a in actions], added, left_out


def test_parsers_read_the_captured_output():
    assert lvm.parse_pvs(out("vg_one_pv_orphan_pv_xfs", PVS)) == {"/dev/ubdb": "docker",
                                                                  "/dev/ubdc": ""}
    vg = lvm.parse_vg(out("vg_two_pvs", VGS))
    assert vg == {"name": "docker", "size": 2139095040, "free": 2139095040,
                  "extent_size": 4 << 20, "pv_count": 2}
    assert STATES["blank"][VGS]["rc"] != 0 and "not found" in STATES["blank"][VGS]["stderr"]
    assert readable(out("vg_one_pv_orphan_pv_xfs", "blkid -p -o export /dev/ubdd")) \
        == ["xfs filesystem"]
    assert readable(out("dos_partition_table", "blkid -p -o export /dev/ubdd")) \
        == ["dos partition table"]
    assert readable(out("vg_one_pv_orphan_pv_xfs", "blkid -p -o export /dev/ubdc")) \
        == ["LVM2_member"]
    assert blkid.mounted_in_lsblk(out("mounted_ext4", "lsblk --json --paths --output "
                                      "NAME,MOUNTPOINT /dev/ubdd")) == ["/dev/ubdd on /mnt/x"]
    assert blkid.mounted_in_lsblk(out("blank", "lsblk --json --paths --output "
                                      "NAME,MOUNTPOINT /dev/ubdb")) == []


def test_blank_disk_becomes_a_new_vg():
    cmds, added, dummy = plan("blank", ["/dev/ubdb"], {"/dev/ubdb": probe("/dev/ubdb", "blank")})
    assert cmds == ["/sbin/pvcreate --yes /dev/ubdb", "/sbin/vgcreate docker /dev/ubdb"]
    assert added == ["/dev/ubdb"]


def test_member_is_left_alone_and_orphan_pv_joins_without_pvcreate():
    probes = {"/dev/ubdb": probe("/dev/ubdb"),
              "/dev/ubdc": probe("/dev/ubdc", "vg_one_pv_orphan_pv_xfs")}
    cmds, added, dummy = plan("vg_one_pv_orphan_pv_xfs", ["/dev/ubdb", "/dev/ubdc"], probes)
    assert cmds == ["/sbin/vgextend docker /dev/ubdc"] and added == ["/dev/ubdc"]


def test_nothing_to_do_when_the_vg_has_every_device():
    probes = {"/dev/ubdb": probe("/dev/ubdb"), "/dev/ubdc": probe("/dev/ubdc")}
    assert plan("vg_two_pvs", ["/dev/ubdb", "/dev/ubdc"], probes) == ([], [], [])


def test_pvs_left_out_of_the_list_are_reported_not_removed():
    cmds, dummy, left_out = plan("vg_two_pvs", ["/dev/ubdb"], {"/dev/ubdb": probe("/dev/ubdb")})
    assert cmds == [] and left_out == ["/dev/ubdc"]


@pytest.mark.parametrize("state, what", [("vg_one_pv_orphan_pv_xfs", "xfs filesystem"),
                                         ("dos_partition_table", "dos partition table")])
def test_signature_refused_without_force_and_wiped_with_it(state, what):
    probes = {"/dev/ubdb": probe("/dev/ubdb"), "/dev/ubdd": probe("/dev/ubdd", state)}
    with pytest.raises(ModuleError) as err:
        plan("vg_one_pv_orphan_pv_xfs", ["/dev/ubdb", "/dev/ubdd"], probes)
    assert err.value.msg.startswith("devices: /dev/ubdd carries %s" % what)
    assert "force=true" in err.value.msg
    cmds = plan("vg_one_pv_orphan_pv_xfs", ["/dev/ubdb", "/dev/ubdd"], probes, force=True)[0]
    assert cmds == ["/sbin/wipefs --all /dev/ubdd", "/sbin/pvcreate --yes /dev/ubdd",
                    "/sbin/vgextend docker /dev/ubdd"]


@pytest.mark.parametrize("make_probe, words", [
    (lambda: probe("/dev/ubdd", "mounted_ext4", "mounted_ext4"), "in use (/dev/ubdd on /mnt/x)"),
    (lambda: probe("/dev/ubdd", holders=["dm-0"]), "held by dm-0"),
])
def test_mounted_or_held_refused_even_with_force(make_probe, words):
    with pytest.raises(ModuleError) as err:
        plan("blank", ["/dev/ubdd"], {"/dev/ubdd": make_probe()}, force=True)
    assert words in err.value.msg and err.value.msg.startswith("devices: /dev/ubdd")


def test_pv_of_another_vg_refused():
    state = current("vg_one_pv_orphan_pv_xfs")
    params = {"vg": "other", "devices": ["/dev/ubdb"], "force": True}
    with pytest.raises(ModuleError) as err:
        vgm.plan_volume_group(IO, params, state, {"/dev/ubdb": probe("/dev/ubdb")})
    assert "physical volume of volume group docker" in err.value.msg


@pytest.mark.parametrize("kw, words", [({"exists": False}, "does not exist"),
                                       ({"block": False}, "is not a block device")])
def test_missing_or_not_a_block_device(kw, words):
    with pytest.raises(ModuleError) as err:
        plan("blank", ["/dev/nope"], {"/dev/nope": probe("/dev/nope", **kw)})
    assert err.value.msg == "devices: /dev/nope %s" % words


def test_one_refusal_means_no_plan_at_all():
    probes = {"/dev/ubdb": probe("/dev/ubdb", "blank"),
              "/dev/ubdd": probe("/dev/ubdd", "vg_one_pv_orphan_pv_xfs")}
    with pytest.raises(ModuleError):
        plan("blank", ["/dev/ubdb", "/dev/ubdd"], probes)


def vg_params(devices, force=False):
    return {"vg": "docker", "devices": devices, "force": force}


def test_a_pv_that_pvs_does_not_list_is_never_wiped():
    """/dev/ubdc carries an LVM2_member signature (captured); with LVM's devices file leaving it
    out, pvs lists only /dev/ubdb. Before the fix force=true wiped it."""
    seen = current("vg_one_pv_orphan_pv_xfs")
    hidden = dict(seen, pvs=dict((p, vg) for p, vg in seen["pvs"].items() if p != "/dev/ubdc"))
    probes = {"/dev/ubdc": probe("/dev/ubdc", "vg_one_pv_orphan_pv_xfs")}
    assert probes["/dev/ubdc"]["signatures"] == ["LVM2_member"]
    for force in (False, True):
        with pytest.raises(ModuleError, match="devices: /dev/ubdc is an LVM physical volume that "
                                              "pvs does not list .* force does not override"):
            vgm.plan_volume_group(IO, vg_params(["/dev/ubdc"], force), hidden, probes)


def test_a_disk_whose_partitions_are_held_is_refused_even_with_force():
    probes = {"/dev/ubdd": dict(probe("/dev/ubdd", "dos_partition_table"),
                                partition_holders={"ubdd1": ["dm-3"]})}
    with pytest.raises(ModuleError, match=r"devices: partitions of /dev/ubdd are in use "
                                          r"\(ubdd1 held by dm-3\)"):
        vgm.plan_volume_group(IO, vg_params(["/dev/ubdd"], True), current("blank"), probes)


def test_pvs_left_out_are_still_reported_when_a_new_disk_joins():
    # the never-wiped check once reused the name of the VG's member list: adding a disk emptied
    # it, and the warning about PVs left out of devices was lost (failed before the fix)
    cmds, added, left_out = plan("vg_two_pvs", ["/dev/ubdb", "/dev/ubdd"],
                                 {"/dev/ubdb": probe("/dev/ubdb"), "/dev/ubdd": probe("/dev/ubdd")})
    assert cmds == ["/sbin/pvcreate --yes /dev/ubdd", "/sbin/vgextend docker /dev/ubdd"]
    assert added == ["/dev/ubdd"] and left_out == ["/dev/ubdc"]


def test_a_disk_whose_partition_is_a_pv_of_an_inactive_vg_is_refused_even_with_force():
    """Captured (scripts/lib/capture_partition_pv.py): /dev/loop0 with a DOS partition table,
    its partition loop0p1 a PV of volume group inact, which is not active (no holders). Before
    the fix force=true wiped the disk's partition table, and the VG with it."""
    from captured import load, output
    disk = load("partition_pv")["disk"]
    seen = {"pvs": lvm.parse_pvs(output("partition_pv", "pvs")["stdout"]), "vg": None}
    listing = output("partition_pv", "cd /sys/class/block/loop0 &&")["stdout"].split("\n")
    parts = dict(("/dev/" + line.split()[0], line.split()[1:]) for line in listing if line)
    assert parts == {"/dev/loop0p1": []} and seen["pvs"] == {"/dev/loop0p1": "inact"}
    signatures = readable(output("partition_pv", "blkid -p -o export " + disk)["stdout"])
    probes = {disk: {"path": disk, "real": disk, "exists": True, "block": True,
                     "signatures": signatures, "mounted": [], "holders": [],
                     "partitions": parts, "partition_holders": {}}}
    for force in (False, True):
        with pytest.raises(ModuleError, match=r"devices: /dev/loop0 has partitions that are LVM "
                                              r"physical volumes: /dev/loop0p1 \(volume group "
                                              r"inact\)\. force does not override this"):
            vgm.plan_volume_group(IO, vg_params([disk], force), seen, probes)


def test_a_disk_whose_partition_is_a_closed_luks_volume_or_a_hidden_pv_is_refused_with_force():
    """Captured (scripts/lib/capture_partition_members.py): /dev/loop0 with a DOS partition table,
    loop0p1 a LUKS1 volume (not open), loop0p2 a PV of an inactive VG that a global_filter hides
    from pvs; nothing holds either, and blkid of the disk sees only the table. Before the fix
    force=true wiped the disk's partition table, and both with it."""
    from captured import load, output
    disk = load("partition_members")["disk"]
    seen = {"pvs": lvm.parse_pvs(output("partition_members", "pvs")["stdout"]), "vg": None}
    listing = output("partition_members", "cd /sys/class/block/loop0 &&")["stdout"].split("\n")
    parts = dict(("/dev/" + line.split()[0], line.split()[1:]) for line in listing if line)
    assert parts == {"/dev/loop0p1": [], "/dev/loop0p2": []} and seen["pvs"] == {}
    part_signatures = dict((p, readable(output("partition_members", "blkid -p -o export " + p)[
        "stdout"])) for p in parts)
    assert part_signatures == {"/dev/loop0p1": ["crypto_LUKS"], "/dev/loop0p2": ["LVM2_member"]}
    signatures = readable(output("partition_members", "blkid -p -o export " + disk)["stdout"])
    probes = {disk: {"path": disk, "real": disk, "exists": True, "block": True,
                     "signatures": signatures, "mounted": [], "holders": [],
                     "partitions": parts, "partition_holders": {},
                     "partition_signatures": part_signatures}}
    for force in (False, True):
        with pytest.raises(ModuleError) as refused:
            vgm.plan_volume_group(IO, vg_params([disk], force), seen, probes)
        assert refused.value.msg.startswith(
            "devices: /dev/loop0 has a partition that wiping it would destroy: /dev/loop0p1 is a "
            "LUKS-encrypted volume; /dev/loop0p2 is an LVM physical volume that pvs does not "
            "list"), refused.value.msg
        assert "force does not override this" in refused.value.msg
