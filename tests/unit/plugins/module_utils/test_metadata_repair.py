"""dm_thinpool_repair's reads and plan (metadata_repair.py) on a capture
(tests/unit/fixtures/metadata_repair.json, scripts/lib/capture_metadata_repair.py): a raw pool's
metadata file, taken down, with the mapping tree of one of its three thin devices overwritten;
thin_check of it before and after the damage, and what thin_repair made of it."""

import base64
import gzip
import os

import pytest

import captured
from fake_host import CapturedModule
from ansible_collections.devmapper.storage.plugins.module_utils import metadata_repair as mr
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

CAPTURE = captured.load("metadata_repair")
CAPTURED_PATH = "/var/tmp/mr/meta"


def metadata_file(tmp_path):
    """The captured (damaged) metadata at a path of the test's own, and the captured losetup
    list with that path in place of the capture's."""
    path = tmp_path / "meta"
    path.write_bytes(gzip.decompress(base64.b64decode(CAPTURE["metadata_gzip_base64"])))
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
    assert current["sound"] and not current["active"] and mr.plan_dm(io, current) == []
    assert [c[0].split("/")[-1] for c in module.calls] == ["dmsetup", "losetup", "thin_check"]


def test_damaged_metadata_is_dumped_repaired_checked_and_swapped_in_with_the_old_kept(tmp_path):
    path, losetup = metadata_file(tmp_path)
    module, io, current = read(path, losetup, "thin_check_damaged")
    assert not current["sound"] and current["loop"] == "/dev/loop3"
    assert "bad checksum in btree node" in current["check_output"]
    plan = [a.to_dict()["cmd"] for a in mr.plan_dm(io, current, stamp="S")]
    kept = path + ".damaged-S"
    assert plan == [
        "/sbin/losetup --detach /dev/loop3",
        "/sbin/thin_dump --repair -o %s.xml %s" % (kept, path),
        "truncate --size %d %s.repaired (emptied first)" % (16 * 2 ** 20, path),
        "/sbin/thin_repair -i %s -o %s.repaired" % (path, path),
        "/sbin/thin_check %s.repaired" % path,
        "mv %s %s" % (path, kept),
        "mv %s.repaired %s" % (path, path)]


def test_an_active_pool_in_use_is_refused_and_an_unused_one_removed_first(tmp_path):
    path, losetup = metadata_file(tmp_path)
    dummy, io, current = read(path, losetup, "thin_check_damaged")
    busy = dict(current, active=True, open_count=1, thin_devices=["docker-1"])
    with pytest.raises(ModuleError) as exc:
        mr.plan_dm(io, busy)
    assert str(exc.value).startswith("name: pool mr-pool is in use (open 1 times; active thin "
                                     "devices: docker-1)")
    idle = dict(current, active=True)
    assert mr.plan_dm(io, idle, stamp="S")[0].to_dict()["cmd"] == "/sbin/dmsetup remove mr-pool"


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
