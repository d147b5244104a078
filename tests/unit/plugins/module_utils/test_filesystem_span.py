"""How much of its device a filesystem spans (module_utils/filesystem.py: parse_span, short_of),
on what guests of each release printed (scripts/lib/capture_filesystems.py): an ext4 and an XFS
filesystem as made, after their device-mapper device was reloaded larger under them (what a
dm_base_device run that stopped before the filesystem leaves), and after they grew into it; XFS
also mounted, where only xfs_info sees a grow at once."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import filesystem
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from captured import load
from test_thin_planners import FS_TOOLS, argvs, base_params

RELEASES = ("bullseye", "bookworm", "trixie")
# (stage, mounted, how it is read) of each state, by filesystem
STATES = {"ext4": {"made": ("made", False, "dumpe2fs"),
                   "device_grown": ("device_grown", False, "dumpe2fs"),
                   "grown": ("grown", False, "dumpe2fs")},
          "xfs": {"made": ("made", False, "xfs_db"),
                  "device_grown": ("device_grown", False, "xfs_db"),
                  "grown": ("grown_unmounted", False, "xfs_db")},
          "xfs_mounted": {"made": ("made", True, "xfs_info"),
                          "device_grown": ("device_grown", True, "xfs_info"),
                          "grown": ("grown", True, "xfs_info")}}


def record(release, fs, stage, mounted, tool):
    found = [r for r in load("fs_span_" + release)["commands"]
             if r["fs"] == fs and r["stage"] == stage and r["mounted"] == mounted
             and r["command"].startswith(tool)]
    assert len(found) == 1 and found[0]["rc"] == 0, found
    return found[0]["stdout"]


def device_bytes(release, fs, stage):
    stage = "grown" if stage == "grown_unmounted" else stage
    return int(record(release, fs, stage, False, "blockdev"))


def captured(release, kind, state):
    """(span as parsed, the device's bytes) of one state."""
    stage, mounted, tool = STATES[kind][state]
    fs = kind.split("_")[0]
    text = record(release, fs, stage, mounted, tool)
    return filesystem.parse_span("xfs_info" if tool == "xfs_info" else fs, text), \
        device_bytes(release, fs, stage)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("kind", sorted(STATES))
def test_only_a_filesystem_left_behind_by_its_device_is_short_of_it(release, kind):
    span, device = captured(release, kind, "made")
    assert span["fs_bytes"] == device and filesystem.short_of(span, device) == 0
    span, device = captured(release, kind, "device_grown")
    assert filesystem.short_of(span, device) == device - span["fs_bytes"] > span["group_bytes"]
    span, device = captured(release, kind, "grown")
    assert filesystem.short_of(span, device) == 0


@pytest.mark.parametrize("release", RELEASES)
def test_a_mounted_xfs_is_read_through_its_mount_point(release):
    # the device's superblock still has the old size after xfs_growfs of the mounted
    # filesystem: read there, a grown filesystem would be grown again at every run
    stale = filesystem.parse_span("xfs", record(release, "xfs", "grown", True, "xfs_db"))
    device = device_bytes(release, "xfs", "grown")
    assert filesystem.short_of(stale, device) > 0
    assert filesystem.short_of(captured(release, "xfs_mounted", "grown")[0], device) == 0


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("kind", sorted(STATES))
def test_a_filesystem_short_of_its_device_is_grown_though_the_device_did_not_grow(release, kind):
    fs = kind.split("_")[0]
    params = base_params(fs_type=fs)
    span, device = captured(release, kind, "device_grown")
    actions = filesystem.plan_filesystem(FS_TOOLS, params, {"TYPE": fs}, False, "/mnt/b", span,
                                         device)
    tool = "/sbin/resize2fs" if fs == "ext4" else "/sbin/xfs_growfs"
    assert [a[0] for a in argvs(actions)] == [tool]
    assert "unused: the device was grown without it" in actions[-1].why
    span, device = captured(release, kind, "grown")
    assert filesystem.plan_filesystem(FS_TOOLS, params, {"TYPE": fs}, False, "/mnt/b", span,
                                      device) == []


def test_a_superblock_without_the_fields_is_an_error_naming_them():
    ext4_text = record("bookworm", "ext4", "made", False, "dumpe2fs")
    with pytest.raises(ModuleError, match="no dblocks, blocksize, agblocks in its superblock"):
        filesystem.parse_span("xfs", ext4_text)
    with pytest.raises(ModuleError, match="no data blocks, data bsize, agsize"):
        filesystem.parse_span("xfs_info", ext4_text)
