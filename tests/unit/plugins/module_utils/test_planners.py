"""Planners are pure: given what was read (here: real LVM output captured in a guest), they return
the exact commands to run, or refuse. Table-driven: params -> expected argv lists or message."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import dm_parsers as p
from ansible_collections.devmapper.storage.plugins.module_utils import dm_pool as dp
from ansible_collections.devmapper.storage.plugins.module_utils import lvm_pool as lp
from ansible_collections.devmapper.storage.plugins.module_utils import thinpool as tp
from ansible_collections.devmapper.storage.plugins.module_utils.host.loop import LoopDevices
from ansible_collections.devmapper.storage.plugins.module_utils.loop_files import (
    LoopFileState,
    plan_loop_file,
)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from captured import load, output

MiB = 1 << 20


class FakeModule(object):
    """Only binary look-up: planners never run anything."""

    def __init__(self, missing=()):
        self.missing = set(missing)

    def get_bin_path(self, name, required=False):
        return None if name in self.missing else "/sbin/" + name


def lvm_current(state="lvm_pool"):
    vg_row = p.parse_lvm_report(output(state, "vgs")["stdout"], "vg")[0]
    vg = {"name": "docker", "extent_size": p.lvm_int(vg_row["vg_extent_size"]),
          "extent_count": p.lvm_int(vg_row["vg_extent_count"]),
          "free_count": p.lvm_int(vg_row["vg_free_count"])}
    lvs = p.parse_lvm_report(output(state, "lvs -a")["stdout"], "lv")
    pool = next(lv for lv in lvs if lv["lv_name"] == "thinpool")
    return {"vg": vg, "pool": pool, "thin_lvs": [lv for lv in lvs if lv["pool_lv"] == "thinpool"],
            "lvs": lvs, "thin_check_installed": True}


def params(**kw):
    base = {"vg": "docker", "name": "thinpool", "state": "present", "data_size": None,
            "metadata_size": None, "chunk_size": None, "zero": False, "force": False}
    base.update(kw)
    return base


def argvs(actions):
    return [a.runner.argv(a.args)[0:1] + a.args for a in actions]


IO = tp.ThinPoolIO(FakeModule())


def test_new_pool_follows_the_runbook():
    current = lvm_current()
    vg = dict(current["vg"], free_count=current["vg"]["extent_count"])
    actions = lp.plan_lvm_pool(IO, params(), {"vg": vg, "pool": None, "thin_lvs": []})
    data = vg["extent_count"] * 95 // 100
    meta = vg["extent_count"] * 1 // 100
    assert argvs(actions) == [
        ["/sbin/lvcreate", "--yes", "--wipesignatures", "y", "--name", "thinpool",
         "--extents", str(data), "docker"],
        ["/sbin/lvcreate", "--yes", "--wipesignatures", "y", "--name", "thinpoolmeta",
         "--extents", str(meta), "docker"],
        ["/sbin/lvconvert", "--yes", "--zero", "n", "--chunksize", "524288b", "--thinpool",
         "docker/thinpool", "--poolmetadata", "docker/thinpoolmeta"],
    ]


@pytest.mark.parametrize("kw,expected", [
    ({}, []),                                              # unset sizes leave a pool alone
    ({"data_size": "95%VG"}, []),                          # the captured pool is 95%VG already
    ({"data_size": "40%FREE"}, []),                        # %FREE sizes new pools only
    ({"state": "active"}, []),
    ({"zero": True}, [["/sbin/lvchange", "--zero", "y", "docker/thinpool"]]),
    ({"state": "absent", "force": True}, [["/sbin/lvremove", "--yes", "docker/thinpool"]]),
])
def test_existing_pool(kw, expected):
    assert argvs(lp.plan_lvm_pool(IO, params(**kw), lvm_current())) == expected


def test_growth_after_vgextend_targets_absolute_extents():
    current = lvm_current()
    vg = dict(current["vg"])
    vg["extent_count"] *= 2
    vg["free_count"] += current["vg"]["extent_count"]
    current["vg"] = vg
    assert lp.plan_lvm_pool(IO, params(), current) == []
    actions = lp.plan_lvm_pool(IO, params(data_size="95%VG", metadata_size="1%VG"), current)
    want = vg["extent_count"] * 95 // 100
    assert argvs(actions)[0] == ["/sbin/lvextend", "--extents", str(want), "docker/thinpool"]
    meta = vg["extent_count"] // 100 * vg["extent_size"]
    assert argvs(actions)[1] == ["/sbin/lvextend", "--poolmetadatasize", "%db" % meta,
                                 "docker/thinpool"]


@pytest.mark.parametrize("kw,message", [
    ({"data_size": "100M"}, "data_size: refusing to shrink"),
    ({"chunk_size": "64K"}, "chunk_size"),
    ({"state": "absent"}, "holds thin volumes (base, snap1)"),
    ({"state": "inactive"}, "thin volumes base are active"),
    ({"data_size": "10T"}, "data_size: growing"),
])
def test_refusals(kw, message):
    with pytest.raises(ModuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lp.plan_lvm_pool(IO, params(**kw), lvm_current())


def test_missing_vg_and_thin_check():
    with pytest.raises(ModuleError, match="vg: volume group docker does not exist"):
        lp.plan_lvm_pool(IO, params(), {"vg": None, "pool": None, "thin_lvs": []})
    nothing = {"vg": None, "pool": None, "thin_lvs": []}
    assert lp.plan_lvm_pool(IO, params(state="absent"), nothing) == []
    current = lvm_current("lvm_pool_inactive")
    no_check = dict(current, thin_check_installed=False)
    with pytest.raises(ModuleError, match="thin_check is not installed"):
        lp.plan_lvm_pool(IO, params(state="active"), no_check)
    assert argvs(lp.plan_lvm_pool(IO, params(state="active"), current)) == [
        ["/sbin/lvchange", "--activate", "y", "docker/thinpool"]]


def dm_params(**kw):
    base = {"name": "pool", "state": "present", "block_sectors": 128, "low_water_mark": 32768,
            "skip_block_zeroing": True, "error_if_no_space": False, "force": False}
    base.update(kw)
    return base


def dm_current(state, name):
    lines = dict(p.split_dmsetup_lines(output(state, "dmsetup table")["stdout"]))
    table = p.parse_thin_pool_table(lines[name])
    status_lines = dict(p.split_dmsetup_lines(output(state, "dmsetup status")["stdout"]))
    return {"table": table, "status": p.ThinPoolStatus(status_lines[name], 128), "users": [],
            "thin_ids": [], "metadata_path": "/dev/block/" + table["metadata_dev"]}


def devices(current, data_size, meta_size=16 * MiB, kind="empty", signature=None,
            meta_signature=None, needs_check=False):
    return {"data": {"path": "/dev/loop0", "devno": current["table"]["data_dev"],
                     "size": data_size, "signature": signature},
            "metadata": {"path": "/dev/loop1", "devno": current["table"]["metadata_dev"],
                         "size": meta_size, "kind": kind, "signature": meta_signature,
                         "needs_check": needs_check}}


def test_a_needs_check_flag_is_cleared_by_a_step_of_the_plan(tmp_path):
    """The superblocks the kernel read as needs_check and thin_check cleared (captured in
    tests/unit/fixtures/thin_metadata.json): the flagged one plans thin_check's clear before the
    table, the other not (before issue 14 the flag was cleared while reading, in no action)."""
    capture = load("thin_metadata")
    kinds = {}
    for name in ("needs_check_set", "needs_check_cleared"):
        path = tmp_path / name
        path.write_bytes(bytes.fromhex(capture[name]))
        kinds[name] = dp.metadata_kind(str(path))
    assert kinds == {"needs_check_set": ("thin", True), "needs_check_cleared": ("thin", False)}
    current = dm_current("loop_pool", "fx-pool")
    flagged = dp.plan_dm_pool(IO, dm_params(state="active"), None,
                              devices(current, 256 * MiB, kind="thin", needs_check=True))
    assert argvs(flagged)[0] == ["/sbin/thin_check", "--clear-needs-check-flag", "-q",
                                 "/dev/loop1"]
    assert "would come up read-only" in flagged[0].why
    assert argvs(flagged)[1][:3] == ["/sbin/dmsetup", "create", "pool"]
    clean = dp.plan_dm_pool(IO, dm_params(state="active"), None,
                            devices(current, 256 * MiB, kind="thin"))
    assert argvs(clean) == argvs(flagged)[1:]


def test_dm_pool_unchanged_then_grown_by_reload():
    current = dm_current("loop_pool", "fx-pool")
    assert dp.plan_dm_pool(IO, dm_params(name="fx-pool"), current,
                           devices(current, 256 * MiB)) == []
    actions = dp.plan_dm_pool(IO, dm_params(name="fx-pool"), current, devices(current, 512 * MiB))
    table = "0 %d thin-pool %s %s 128 32768 1 skip_block_zeroing" % (
        512 * MiB // 512, current["table"]["metadata_dev"], current["table"]["data_dev"])
    assert argvs(actions) == [["/sbin/dmsetup", "suspend", "fx-pool"],
                              ["/sbin/dmsetup", "reload", "fx-pool", "--table", table],
                              ["/sbin/dmsetup", "resume", "fx-pool"]]


@pytest.mark.parametrize("kw,dev_kw,message", [
    ({"block_sectors": 256}, {}, "block_size"),
    ({}, {"data_size": 128 * MiB}, "cannot shrink"),
])
def test_dm_pool_refusals(kw, dev_kw, message):
    current = dm_current("loop_pool", "fx-pool")
    devs = devices(current, dev_kw.get("data_size", 256 * MiB))
    with pytest.raises(ModuleError, match=message):
        dp.plan_dm_pool(IO, dm_params(name="fx-pool", **kw), current, devs)


def test_new_dm_pool_guards_metadata_and_data():
    current = dm_current("loop_pool", "fx-pool")
    with pytest.raises(ModuleError, match="not thin-pool metadata"):
        dp.plan_dm_pool(IO, dm_params(), None, devices(current, 256 * MiB, kind="other"))
    with pytest.raises(ModuleError, match="carries a xfs signature"):
        dp.plan_dm_pool(IO, dm_params(), None, devices(current, 256 * MiB, signature="xfs"))
    with pytest.raises(ModuleError, match="state=active only brings back"):
        dp.plan_dm_pool(IO, dm_params(state="active"), None, devices(current, 256 * MiB))
    forced = dp.plan_dm_pool(IO, dm_params(force=True), None,
                             devices(current, 256 * MiB, kind="other"))
    assert [a[1] for a in argvs(forced)] == ["if=/dev/zero", "create"]
    again = dp.plan_dm_pool(IO, dm_params(state="active"), None,
                            devices(current, 256 * MiB, kind="thin", signature="xfs"))
    assert argvs(again)[0][:3] == ["/sbin/dmsetup", "create", "pool"]


def test_a_metadata_device_with_zeros_first_but_data_further_in_is_not_empty():
    """An ISO 9660 image starts at 32 KiB: its first 4 KiB are zeros, which passed for an empty
    metadata device (the new pool's metadata overwrote it without force before the fix). blkid's
    ambivalent result (several signatures) refuses the same way, on either device."""
    from ansible_collections.devmapper.storage.plugins.module_utils.host.blkid import (
        AMBIVALENT_TYPE)
    current = dm_current("loop_pool", "fx-pool")
    for signature in ("iso9660", AMBIVALENT_TYPE):
        with pytest.raises(ModuleError, match="metadata_device: /dev/loop1 carries"):
            dp.plan_dm_pool(IO, dm_params(), None,
                            devices(current, 256 * MiB, meta_signature=signature))
        forced = dp.plan_dm_pool(IO, dm_params(force=True), None,
                                 devices(current, 256 * MiB, meta_signature=signature))
        assert [a[1] for a in argvs(forced)] == ["create"]
    with pytest.raises(ModuleError, match="data_device: /dev/loop0 carries more than one signature"):
        dp.plan_dm_pool(IO, dm_params(), None,
                        devices(current, 256 * MiB, signature=AMBIVALENT_TYPE))


LOOP_IO = type("LoopIO", (), {})()
for _tool in ("truncate", "rm"):
    setattr(LOOP_IO, _tool, tp.ToolRunner(FakeModule(), _tool))
LOOP_IO.loop = LoopDevices(FakeModule())


@pytest.mark.parametrize("current,want,state,kw,expected", [
    (LoopFileState("/tmp/d"), 64 * MiB, "present", {},
     [["/sbin/truncate", "--size", str(64 * MiB), "/tmp/d"],
      ["/sbin/losetup", "--find", "--show", "/tmp/d"]]),
    (LoopFileState("/tmp/d", True, 64 * MiB, 0, "/dev/loop3", 64 * MiB), 128 * MiB, "present",
     {}, [["/sbin/truncate", "--size", str(128 * MiB), "/tmp/d"],
          ["/sbin/losetup", "--set-capacity", "/dev/loop3"]]),
    (LoopFileState("/tmp/d", True, 64 * MiB, 0, "/dev/loop3", 64 * MiB), 64 * MiB, "present",
     {}, []),
    (LoopFileState("/tmp/d", True, 64 * MiB, 0, "/dev/loop3", 64 * MiB), None, "absent", {},
     [["/sbin/losetup", "--detach", "/dev/loop3"]]),
    (LoopFileState("/tmp/d", True, 64 * MiB, 0, "/dev/loop3", 64 * MiB, ["pool"]), None,
     "absent", {"force": True, "remove_file": True},
     [["/sbin/losetup", "--detach", "/dev/loop3"], ["/sbin/rm", "--", "/tmp/d"]]),
])
def test_loop_file_plans(current, want, state, kw, expected):
    assert argvs(plan_loop_file(LOOP_IO, "data_file", current, want, state, **kw)) == expected


@pytest.mark.parametrize("current,want,state,kw,message", [
    (LoopFileState("/tmp/d", True, 64 * MiB), 32 * MiB, "present", {}, "data_size: refusing"),
    (LoopFileState("/tmp/d"), None, "present", {}, "give data_size"),
    (LoopFileState("/tmp/d", True, 1, 0, "/dev/loop3", 1, ["pool"]), None, "absent", {},
     "held open by pool"),
    (LoopFileState("/tmp/d", True, 1), None, "absent", {"remove_file": True}, "force=true"),
])
def test_loop_file_refusals(current, want, state, kw, message):
    with pytest.raises(ModuleError, match=message):
        plan_loop_file(LOOP_IO, "data_file", current, want, state, **kw)


def test_a_file_to_create_needs_its_directory_as_read():
    missing = LoopFileState("/tmp/nowhere/d", parent_exists=False)
    with pytest.raises(ModuleError, match="data_file: directory /tmp/nowhere does not exist"):
        plan_loop_file(LOOP_IO, "data_file", missing, 64 * MiB, "present")


def test_removing_a_used_pool_takes_force_even_when_its_metadata_lists_no_thin_id():
    """A pool just made (transaction 0, no data used) and holding no thin id goes without force;
    one that has had a transaction or uses data blocks does not, though no id is listed."""
    fresh = dict(dm_current("loop_pool", "fx-pool"), thin_ids=[])
    assert argvs(dp.plan_dm_pool(IO, dm_params(name="fx-pool", state="absent"), fresh,
                                 None))[0] == ["/sbin/dmsetup", "remove", "fx-pool"]
    used = dict(dm_current("loop_pool_thins", "fx-pool"), thin_ids=[])
    with pytest.raises(ModuleError, match=r"has been used \(transaction id 3, 1415 data "
                                          r"blocks used\)"):
        dp.plan_dm_pool(IO, dm_params(name="fx-pool", state="absent"), used, None)
    assert dp.plan_dm_pool(IO, dm_params(name="fx-pool", state="absent", force=True), used, None)
    listed = dict(dm_current("loop_pool_thins", "fx-pool"), thin_ids=[0, 1])
    with pytest.raises(ModuleError, match=r"holds thin devices \[0, 1\]"):
        dp.plan_dm_pool(IO, dm_params(name="fx-pool", state="absent"), listed, None)


class ReadOnlyIO(object):
    """read_dm's IO with the pool's reads answered; it records the metadata reads, and has no
    way to send the pool a message."""

    def __init__(self, check_mode):
        self.module = type("M", (), {"check_mode": check_mode})()
        self.dm = self
        self.metadata_reads = []

    def read_thin_pool(self, name):
        current = dm_current("loop_pool_thins", name)
        return {"table": current["table"], "status": current["status"], "devno": "254:0"}

    def active_thins(self, devno):
        return {}

    def thin_ids_in_metadata(self, metadata):
        self.metadata_reads.append(metadata)
        return [0, 1]


@pytest.mark.parametrize("state,check_mode", [
    ("info", False), ("absent", True), ("absent", False), ("present", True),
])
def test_every_run_counts_a_raw_pool_s_thin_devices_from_its_metadata_device(state, check_mode):
    io = ReadOnlyIO(check_mode)
    current = dp.read_dm(io, dm_params(name="fx-pool", state=state))
    assert io.metadata_reads == [current["metadata_path"]]
    assert dp.dm_pool_info(current, "fx-pool")["thin_device_count"] == 2


def test_an_lvm_pool_used_by_something_other_than_lvm_needs_force_to_go():
    """Docker's devicemapper driver makes thin devices with pool messages, which are no LVs: the
    captured pool seen without its thin LVs (transaction id 2, 0.75% data in use) is such a
    pool. Before the fix lvremove ran without force."""
    current = dict(lvm_current(), thin_lvs=[])
    with pytest.raises(ModuleError, match="has transaction id 2 and 0.75% of its data in use, "
                                          "though it holds no thin volumes LVM knows"):
        lp.plan_lvm_pool(IO, params(state="absent"), current)
    assert argvs(lp.plan_lvm_pool(IO, params(state="absent", force=True), current)) == [
        ["/sbin/lvremove", "--yes", "docker/thinpool"]]


def test_an_lvm_pool_with_docker_devices_is_not_reported_empty():
    """The same pool as the info module reports it: with thin LVs they are counted; without, a
    used pool's count is unknown (null, and why), not 0 (before the fix it said 0)."""
    with_lvs = lp.lvm_pool_info(lvm_current(), params())
    assert with_lvs["thin_device_count"] == len(lvm_current()["thin_lvs"]) > 0
    info = lp.lvm_pool_info(dict(lvm_current(), thin_lvs=[]), params())
    assert info["thin_device_count"] is None
    assert "no thin volumes LVM knows" in info["thin_device_count_why"]
    assert "transaction id 2" in info["thin_device_count_why"]


def test_a_failed_convert_removes_the_lvs_the_plan_made():
    """lvcreate data, lvcreate metadata, lvconvert: when the convert fails, apply_plan removes
    both LVs (newest first) before it reports the error; before the fix they stayed and the
    corrected run found a plain LV in the pool's place. Captured answers: a command that
    succeeded quietly, one that failed."""
    from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
        CommandError, apply_plan)
    from fake_host import CapturedModule
    quiet = output("loop_pool_thins", "dmsetup message fx-pool 0 release_metadata_snap")
    failed = output("loop_pool_thins", "dmsetup remove fx-pool")
    assert quiet["rc"] == 0 and failed["rc"] != 0
    current = lvm_current()
    vg = dict(current["vg"], free_count=current["vg"]["extent_count"])
    module = CapturedModule(quiet, quiet, failed, quiet, quiet)
    actions = lp.plan_lvm_pool(tp.ThinPoolIO(module), params(name="pool2"),
                               {"vg": vg, "pool": None, "thin_lvs": []})
    with pytest.raises(CommandError) as error:
        apply_plan(actions)
    assert [c[0].rsplit("/", 1)[-1] for c in module.calls] == [
        "lvcreate", "lvcreate", "lvconvert", "lvremove", "lvremove"]
    assert [c[-1] for c in module.calls[3:]] == ["docker/pool2meta", "docker/pool2"]
    assert len(error.value.details["undone_after_failure"]) == 2
