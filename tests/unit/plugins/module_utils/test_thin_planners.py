"""Planners of dm_snapshot, dm_base_device, lvm_thinpool_profile and LV conversion, on the pool
captured in state loop_pool_thins (ids 0 and 1, active as fx-base and fx-snap)."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import dm_parsers as p
from ansible_collections.devmapper.storage.plugins.module_utils import lvm_pool as lp
from ansible_collections.devmapper.storage.plugins.module_utils import thinpool as tp
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from captured import output
from test_planners import FakeModule, argvs, lvm_current, params

from ansible_collections.devmapper.storage.plugins.module_utils import base_device as base
from ansible_collections.devmapper.storage.plugins.module_utils import filesystem
from ansible_collections.devmapper.storage.plugins.module_utils import lvm_profile as profile
from ansible_collections.devmapper.storage.plugins.module_utils import thin_devices as snapshot

MiB = 1 << 20
IO = snapshot.ThinDeviceIO(FakeModule())
FS_TOOLS = filesystem.FilesystemTools(FakeModule())


def pool_state():
    rows = p.parse_thin_ls(output("loop_pool_thins", "thin_ls")["stdout"])
    active = {}
    for name, line in p.split_dmsetup_lines(output("loop_pool_thins", "dmsetup table")["stdout"]):
        if " thin " in line:
            table = p.parse_thin_table(line)
            active[name] = {"device_id": table["device_id"], "sectors": table["length_sectors"]}
    return {"thin_ids": [r["dev"] for r in rows], "active": active}


def snap_params(**kw):
    base_params = {"pool": "fx-pool", "snapshot_id": 2, "origin_id": 0, "name": None,
                   "size": None, "state": "present", "force": False}
    base_params.update(kw)
    return base_params


def test_snapshot_of_an_active_origin_is_taken_between_suspend_and_resume():
    actions = snapshot.plan_snapshot(IO, snap_params(name="fx-snap2"), pool_state())
    assert argvs(actions) == [
        ["/sbin/dmsetup", "suspend", "fx-base"],
        ["/sbin/dmsetup", "message", "fx-pool", "0", "create_snap 2 0"],
        ["/sbin/dmsetup", "resume", "fx-base"],
        ["/sbin/dmsetup", "create", "fx-snap2", "--table",
         "0 %d thin /dev/mapper/fx-pool 2" % (512 * MiB // 512)],
    ]


@pytest.mark.parametrize("kw,expected", [
    ({"snapshot_id": 1, "origin_id": 0}, []),                   # id 1 exists: idempotent
    ({"snapshot_id": 1, "name": "fx-snap"}, []),                # and active under that name
    ({"snapshot_id": 1, "name": "fx-snap", "state": "absent", "force": True},
     [["/sbin/dmsetup", "remove", "fx-snap"],
      ["/sbin/dmsetup", "message", "fx-pool", "0", "delete 1"]]),
    ({"snapshot_id": 7, "state": "absent"}, []),
])
def test_snapshot_idempotence_and_removal(kw, expected):
    assert argvs(snapshot.plan_snapshot(IO, snap_params(**kw), pool_state())) == expected


@pytest.mark.parametrize("kw,message", [
    ({"origin_id": 9}, "origin_id: thin id 9 does not exist"),
    ({"name": "fx-base"}, "is already thin id 0, not 2"),
    ({"snapshot_id": 1, "state": "absent"}, "active as /dev/mapper/fx-snap"),
    ({"snapshot_id": 1, "name": "fx-snap", "state": "absent"}, "set force=true"),
    ({"origin_id": None}, "origin_id is required"),
])
def test_snapshot_refusals(kw, message):
    with pytest.raises(ModuleError, match=message):
        snapshot.plan_snapshot(IO, snap_params(**kw), pool_state())


def base_params(**kw):
    values = {"pool": "fx-pool", "device_id": 0, "name": "fx-base", "state": "present",
              "fs_type": "xfs", "force": False}
    values.update(kw)
    return values


@pytest.mark.parametrize("kw,sectors,expected", [
    ({}, 512 * MiB // 512, []),
    ({}, 1024 * MiB // 512, [
        ["/sbin/dmsetup", "suspend", "fx-base"],
        ["/sbin/dmsetup", "reload", "fx-base", "--table",
         "0 %d thin /dev/mapper/fx-pool 0" % (1024 * MiB // 512)],
        ["/sbin/dmsetup", "resume", "fx-base"]]),
    ({"device_id": 5, "name": "fx-new"}, 2048, [
        ["/sbin/dmsetup", "message", "fx-pool", "0", "create_thin 5"],
        ["/sbin/dmsetup", "create", "fx-new", "--table", "0 2048 thin /dev/mapper/fx-pool 5"]]),
    ({"state": "absent", "force": True}, 0, [
        ["/sbin/dmsetup", "remove", "fx-base"],
        ["/sbin/dmsetup", "message", "fx-pool", "0", "delete 0"]]),
])
def test_base_device_plans(kw, sectors, expected):
    assert argvs(base.plan_device(IO, base_params(**kw), pool_state(), sectors)[0]) == expected


def test_base_device_plan_says_when_the_device_grows():
    assert base.plan_device(IO, base_params(), pool_state(), 1024 * MiB // 512)[1] is True
    assert base.plan_device(IO, base_params(), pool_state(), 512 * MiB // 512)[1] is False
    assert base.plan_device(IO, base_params(device_id=5, name="fx-new"), pool_state(), 2048)[1] \
        is False


def test_base_device_refuses_shrink_and_unforced_removal():
    with pytest.raises(ModuleError, match="size: refusing to shrink"):
        base.plan_device(IO, base_params(), pool_state(), 2048)
    with pytest.raises(ModuleError, match="force=true"):
        base.plan_device(IO, base_params(state="absent"), pool_state(), 0)


@pytest.mark.parametrize("fs,kw,grew,mounted,expected", [
    ({}, {}, False, None, [["/sbin/mkfs.xfs", "-q", "-K", "/dev/mapper/fx-base"]]),
    ({}, {"fs_type": "ext4"}, False, None, [
        ["/sbin/mkfs.ext4", "-q", "-E", "nodiscard,lazy_itable_init=0,lazy_journal_init=0",
         "/dev/mapper/fx-base"],
        ["/sbin/tune2fs", "-c", "-1", "-i", "0", "/dev/mapper/fx-base"]]),
    ({"TYPE": "xfs"}, {}, False, None, []),
    ({"TYPE": "xfs"}, {}, True, "/mnt/b", [["/sbin/xfs_growfs", "/mnt/b"]]),
    # unmounted: mounted for the grow on a mount point made first (no mount --mkdir: util-linux
    # 2.38 and later only)
    ({"TYPE": "xfs"}, {}, True, None, [
        ["/sbin/mkdir", "-p", "/run/devmapper-storage/grow-fx-base"],
        ["/sbin/mount", "-o", "nouuid", "/dev/mapper/fx-base",
         "/run/devmapper-storage/grow-fx-base"],
        ["/sbin/xfs_growfs", "/run/devmapper-storage/grow-fx-base"],
        ["/sbin/umount", "/run/devmapper-storage/grow-fx-base"]]),
    ({"TYPE": "ext4"}, {"fs_type": "ext4"}, True, None, [
        ["/sbin/e2fsck", "-f", "-p", "/dev/mapper/fx-base"],
        ["/sbin/resize2fs", "/dev/mapper/fx-base"]]),
    ({"TYPE": "ext4"}, {"force": True}, False, None,
     [["/sbin/mkfs.xfs", "-q", "-K", "-f", "/dev/mapper/fx-base"]]),
])
def test_filesystem_plans(fs, kw, grew, mounted, expected):
    actions = filesystem.plan_filesystem(FS_TOOLS, base_params(**kw), fs, grew, mounted)
    assert argvs(actions) == expected


def test_filesystem_of_another_type_is_not_formatted_without_force():
    with pytest.raises(ModuleError, match="fs_type: /dev/mapper/fx-base already holds a ext4"):
        filesystem.plan_filesystem(FS_TOOLS, base_params(), {"TYPE": "ext4"}, False, None)


def profile_params(**kw):
    values = {"vg": "docker", "pool": "thinpool", "profile": "docker-thinpool", "threshold": 80,
              "percent": 20, "monitor": True, "state": "present",
              "profile_path": "/etc/lvm/profile/docker-thinpool.profile"}
    values.update(kw)
    return values


def captured_pool_row():
    command = "lvs --reportformat json --units b --nosuffix -o lv_name,seg_monitor,lv_profile"
    rows = p.parse_lvm_report(output("lvm_pool", command)["stdout"], "lv")
    return dict(rows[0], lv_attr="twi-aot---", lv_active="active")


def test_profile_on_the_captured_pool_is_already_in_place():
    io = profile.ProfileIO(FakeModule())
    content = profile.render_profile(80, 20)
    assert profile.plan_profile(io, profile_params(), captured_pool_row(), content, True) == []
    steps = profile.plan_profile(io, profile_params(threshold=90), captured_pool_row(), content,
                                 True)
    assert [s.to_dict()["cmd"] for s in steps] == [
        "write /etc/lvm/profile/docker-thinpool.profile"]
    off = dict(captured_pool_row(), seg_monitor="not monitored", lv_profile="")
    steps = profile.plan_profile(io, profile_params(), off, None, True)
    assert [s.to_dict()["cmd"] for s in steps] == [
        "write /etc/lvm/profile/docker-thinpool.profile",
        "/sbin/lvchange --metadataprofile docker-thinpool docker/thinpool",
        "/sbin/lvchange --monitor y docker/thinpool"]
    with pytest.raises(ModuleError, match="dm-event.socket"):
        profile.plan_profile(io, profile_params(), off, content, False)


def test_existing_lvs_are_converted_only_with_force():
    current = lvm_current()
    plain = dict(current["pool"], lv_attr="-wi-a-----")
    meta = dict(plain, lv_name="mymeta")
    current = dict(current, pool=plain, lvs=[plain, meta])
    io = tp.ThinPoolIO(FakeModule())
    with pytest.raises(ModuleError, match="set force=true"):
        lp.plan_lvm_pool(io, params(metadata_lv="mymeta"), current)
    assert argvs(lp.plan_lvm_pool(io, params(metadata_lv="mymeta", force=True), current)) == [
        ["/sbin/lvconvert", "--yes", "--zero", "n", "--chunksize", "524288b", "--thinpool",
         "docker/thinpool", "--poolmetadata", "docker/mymeta"]]
    with pytest.raises(ModuleError, match="metadata_lv: docker/other does not exist"):
        lp.plan_lvm_pool(io, params(metadata_lv="other", force=True), current)
    # once it is a pool, asking again changes nothing
    assert lp.plan_lvm_pool(io, params(metadata_lv="mymeta"), lvm_current()) == []


def test_a_failed_snapshot_message_does_not_leave_its_origin_suspended():
    """The snapshot of an active origin: suspend, create_snap, resume. When the kernel refuses the
    message (captured: create_snap of an id that exists, "File exists"), apply_plan resumes the
    origin before it reports the error; before the fix fx-base stayed suspended, and every
    write to it hung."""
    from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import DeviceMapper
    from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
        CommandError, apply_plan)
    from captured import output
    from fake_host import CapturedModule
    done_quietly = output("loop_pool_thins", "dmsetup message fx-pool 0 release_metadata_snap")
    refused = output("loop_pool_thins", "dmsetup message fx-pool 0 'create_snap 1 0'")
    assert done_quietly["rc"] == 0 and refused["rc"] == 1
    module = CapturedModule(done_quietly, refused, done_quietly)
    dm = DeviceMapper(module)
    plan = [dm.suspend("fx-base", "suspend the origin"),
            dm.message("fx-pool", "create_snap 1 0", 1, "snapshot 0 into 1"),
            dm.resume("fx-base", "resume the origin")]
    with pytest.raises(CommandError) as failed:
        apply_plan(plan)
    assert [c[1:] for c in module.calls] == [
        ["suspend", "fx-base"], ["message", "fx-pool", "0", "create_snap 1 0"],
        ["resume", "fx-base"]]
    assert failed.value.details["undone_after_failure"] == ["/sbin/dmsetup resume fx-base"]
    assert failed.value.details["failed_action"]["cmd"].endswith("create_snap 1 0")
