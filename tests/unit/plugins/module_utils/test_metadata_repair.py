"""dm_thinpool_repair's reads and plans (metadata_repair.py, metadata_repair_lvm.py) on captures
(tests/unit/fixtures/metadata_repair.json from bookworm, metadata_repair_trixie.json;
scripts/lib/capture_metadata_repair.py): a raw pool's metadata file, taken down, with the mapping
tree of one of its three thin devices overwritten; thin_check of it before and after the damage,
and the file thin_repair made of it; and the reads of an LVM pool before and after the same
damage."""

import base64
import gzip
import os

import pytest

import captured
from fake_host import CapturedModule
from ansible_collections.devmapper.storage.plugins.module_utils import metadata_repair as mr
from ansible_collections.devmapper.storage.plugins.module_utils import metadata_repair_lvm as lvm
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

CAPTURE = captured.load("metadata_repair")
TRIXIE = captured.load("metadata_repair_trixie")
CAPTURED_PATH = "/var/tmp/mr/meta"


def unpacked(text):
    return gzip.decompress(base64.b64decode(text))


def metadata_file(tmp_path):
    """The captured (damaged) metadata at a path of the test's own, and the captured losetup
    list with that path in place of the capture's."""
    path = tmp_path / "meta"
    path.write_bytes(unpacked(CAPTURE["metadata_gzip_base64"]))
    losetup = dict(CAPTURE["losetup"], stdout=CAPTURE["losetup"]["stdout"].replace(
        CAPTURED_PATH, str(path)))
    return str(path), losetup


def read(path, losetup, check):
    module = CapturedModule(CAPTURE["dmsetup_info_absent"], losetup, CAPTURE[check])
    io = mr.RepairIO(module)
    current = mr.read_dm(io, {"name": "mr-pool", "metadata_file": path})
    return module, io, current


def test_the_capture_is_a_repair_that_kept_two_devices_of_three():
    assert CAPTURE["thin_check_sound"]["rc"] == 0 and CAPTURE["thin_check_damaged"]["rc"] != 0
    assert "bad checksum in btree node (block %d)" % CAPTURE["damaged_root_block"] in \
        CAPTURE["thin_check_damaged"]["stderr"]
    kept = [line.split('mapped_blocks="')[1].split('"')[0]
            for line in CAPTURE["repaired_devices"].splitlines()]
    assert kept == ["128", "0", "128"]


def test_sound_metadata_is_left_alone(tmp_path):
    path, losetup = metadata_file(tmp_path)
    module, io, current = read(path, losetup, "thin_check_sound")
    assert current["sound"] and not current["active"] and mr.plan_dm(io, current, False) == []
    assert [c[0].split("/")[-1] for c in module.calls] == ["dmsetup", "losetup", "thin_check"]


def test_damaged_metadata_is_dumped_repaired_checked_and_swapped_in_with_the_old_kept(tmp_path):
    path, losetup = metadata_file(tmp_path)
    module, io, current = read(path, losetup, "thin_check_damaged")
    assert not current["sound"] and current["loop"] == "/dev/loop3"
    assert "bad checksum in btree node" in current["check_output"]
    plan = [a.to_dict()["cmd"] for a in mr.plan_dm(io, current, False, stamp="S")]
    kept = path + ".damaged-S"
    # nothing of the pool changes before the repaired copy passed thin_check and kept the devices
    assert plan == [
        "/sbin/thin_dump --repair -o %s.xml %s" % (kept, path),
        "truncate --size %d %s.repaired (emptied first)" % (16 * 2 ** 20, path),
        "/sbin/thin_repair -i %s -o %s.repaired" % (path, path),
        "/sbin/thin_check %s.repaired" % path,
        "compare the thin devices of %s and %s.repaired" % (path, path),
        "/sbin/losetup --detach /dev/loop3",
        "mv %s %s" % (path, kept),
        "mv %s.repaired %s" % (path, path)]


@pytest.mark.parametrize("capture,lost", [(CAPTURE, []), (TRIXIE, [2])], ids=["0.9", "1.1"])
def test_a_repair_that_dropped_a_device_thin_check_did_not_name_is_refused(
        tmp_path, capture, lost):
    damaged, repaired = tmp_path / "meta", tmp_path / "meta.repaired"
    damaged.write_bytes(unpacked(capture["metadata_gzip_base64"]))
    repaired.write_bytes(unpacked(capture["repaired_gzip_base64"]))
    named = mr.damaged_ids(capture["thin_check_damaged"]["stderr"])
    assert named == [1]
    step = mr.KeptDevices(str(damaged), str(repaired), named, False, "why")
    if not lost:
        step.apply()
        return
    with pytest.raises(ModuleError) as exc:
        step.apply()
    assert str(exc.value).startswith(
        "force: thin_repair dropped thin devices 2, which thin_check did not name as damaged "
        "(it named 1); nothing of the pool was changed, and the repaired copy is at %s" % repaired)
    mr.KeptDevices(str(damaged), str(repaired), named, True, "why").apply()


def test_an_active_pool_in_use_is_refused_and_an_unused_one_removed_first(tmp_path):
    path, losetup = metadata_file(tmp_path)
    dummy, io, current = read(path, losetup, "thin_check_damaged")
    busy = dict(current, active=True, open_count=1, thin_devices=["docker-1"])
    with pytest.raises(ModuleError) as exc:
        mr.plan_dm(io, busy, False)
    assert str(exc.value).startswith("name: pool mr-pool is in use (open 1 times; active thin "
                                     "devices: docker-1)")
    idle = dict(current, active=True)
    assert [a.to_dict()["cmd"] for a in mr.plan_dm(io, idle, False, stamp="S")][5] == \
        "/sbin/dmsetup remove mr-pool"


def test_a_file_without_a_thin_pool_superblock_is_never_swapped(tmp_path):
    data = tmp_path / "data"
    data.write_bytes(b"\0" * 8192)
    with pytest.raises(ModuleError) as exc:
        mr.read_dm(mr.RepairIO(CapturedModule()), {"name": "mr-pool", "metadata_file": str(data)})
    assert "holds no thin-pool superblock (metadata_file)" in str(exc.value)


def test_the_new_file_is_sparse_and_empty_and_the_swap_is_two_renames(tmp_path):
    new = tmp_path / "meta.repaired"
    new.write_bytes(b"left over from a failed run")
    mr.SparseFile(str(new), 16 * 2 ** 20, "why").apply()
    assert new.stat().st_size == 16 * 2 ** 20 and new.stat().st_blocks == 0
    old = tmp_path / "meta"
    old.write_bytes(b"old")
    mr.Rename(str(old), str(tmp_path / "meta.damaged-S"), "why").apply()
    mr.Rename(str(new), str(old), "why").apply()
    assert sorted(os.listdir(str(tmp_path))) == ["meta", "meta.damaged-S"]
    assert (tmp_path / "meta.damaged-S").read_bytes() == b"old"


def read_lvm(records):
    module = CapturedModule(*records)
    io = mr.RepairIO(module)
    current = lvm.read_lvm(io, {"vg": "vgr", "name": "pool"})
    ran = [" ".join([c[0].split("/")[-1]] + c[1:]) for c in module.calls]
    return io, current, ran


def test_an_inactive_lvm_pool_is_checked_through_its_metadata_component_and_left_when_sound():
    io, current, ran = read_lvm(CAPTURE["lvm_sound"])
    assert ran == [r["command"] for r in CAPTURE["lvm_sound"]]
    assert current["sound"] and not current["active"] and current["kept"] == []
    assert lvm.plan_lvm(io, current, False) == []


def test_a_damaged_lvm_pool_is_repaired_by_lvconvert():
    io, current, ran = read_lvm(CAPTURE["lvm_damaged"])
    assert ran == [r["command"] for r in CAPTURE["lvm_damaged"]]
    assert not current["sound"] and current["name"] == "vgr/pool"
    assert "thin device %d is missing mappings" % CAPTURE["lvm_damaged_thin_id"] in \
        current["check_output"]
    scratch = "/var/tmp/dm_thinpool_repair-vgr-pool.tmeta"
    # a trial repair with the host's thin_repair first; lvconvert runs the same
    assert [a.to_dict()["cmd"] for a in lvm.plan_lvm(io, current, False)] == [
        "/sbin/lvchange --activate y --yes vgr/pool_tmeta",
        "truncate --size %d %s (emptied first)" % (8 * 2 ** 20, scratch),
        "/sbin/thin_repair -i /dev/vgr/pool_tmeta -o %s" % scratch,
        "compare the thin devices of /dev/vgr/pool_tmeta and %s" % scratch,
        "/sbin/lvchange --activate n vgr/pool_tmeta",
        "rm %s" % scratch,
        "/sbin/lvconvert --repair --yes vgr/pool"]
    assert [a.to_dict()["cmd"] for a in lvm.plan_lvm(io, current, True)] == [
        "/sbin/lvconvert --repair --yes vgr/pool"]
    # active and unused: deactivated first; in use: refused
    idle = dict(current, active=True)
    assert [a.to_dict()["cmd"] for a in lvm.plan_lvm(io, idle, True)][0] == \
        "/sbin/lvchange --activate n vgr/pool"
    with pytest.raises(ModuleError):
        lvm.plan_lvm(io, dict(current, active=True, open_count=2), True)


def test_trixie_names_the_damaged_device_in_its_own_words():
    dummy, current, ran = read_lvm(TRIXIE["lvm_damaged"])
    assert ran == [r["command"] for r in TRIXIE["lvm_damaged"]]
    assert not current["sound"]
    assert mr.damaged_ids(current["check_output"]) == [TRIXIE["lvm_damaged_thin_id"]]


def test_a_thin_volume_is_no_pool_to_repair():
    module = CapturedModule(*CAPTURE["lvm_sound"][:2])
    with pytest.raises(ModuleError) as exc:
        lvm.read_lvm(mr.RepairIO(module), {"vg": "vgr", "name": "t1"})
    assert str(exc.value) == "name: vgr/t1 is not a thin pool"


def test_a_refused_trial_takes_the_metadata_component_down_again(tmp_path):
    # trixie: the trial's copy lost device 2; the component activated for it is deactivated
    # (apply_plan undoes open steps when a step of the module's own refuses, not only when a
    # command fails)
    from ansible_collections.devmapper.storage.plugins.module_utils.runners import apply_plan
    records = TRIXIE["lvm_damaged"]
    module = CapturedModule(records[4], records[6])
    io = mr.RepairIO(module)
    up, down = lvm.component_steps(io, {"name": "vgr/pool"}, "why")
    damaged, repaired = tmp_path / "meta", tmp_path / "meta.repaired"
    damaged.write_bytes(unpacked(TRIXIE["metadata_gzip_base64"]))
    repaired.write_bytes(unpacked(TRIXIE["repaired_gzip_base64"]))
    with pytest.raises(ModuleError) as exc:
        apply_plan([up, mr.KeptDevices(str(damaged), str(repaired), [1], False, "why"), down])
    assert exc.value.details["undone_after_failure"] == [
        "/sbin/lvchange --activate n vgr/pool_tmeta"]
    assert [c[1:] for c in module.calls] == [["--activate", "y", "--yes", "vgr/pool_tmeta"],
                                             ["--activate", "n", "vgr/pool_tmeta"]]
