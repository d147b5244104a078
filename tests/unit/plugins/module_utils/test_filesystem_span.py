"""How much of its device a filesystem spans (module_utils/filesystem.py: parse_span, short_of),
on what guests of each release printed (scripts/lib/capture_filesystems.py): an ext4 and an XFS
filesystem as made, after their device-mapper device was reloaded larger under them (what a
dm_base_device run that stopped before the filesystem leaves), and after they grew into it."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import filesystem
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from captured import load
from test_thin_planners import FS_TOOLS, argvs, base_params

RELEASES = ("bullseye", "bookworm", "trixie")


def captured(release, fs, stage):
    """(span as parsed, the device's bytes) of one stage."""
    records = [r for r in load("fs_span_" + release)["commands"]
               if r["fs"] == fs and r["stage"] == stage]
    assert [r["rc"] for r in records] == [0, 0], records
    span_text, size_text = records[0]["stdout"], records[1]["stdout"]
    return filesystem.parse_span(fs, span_text), int(size_text)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("fs", ["ext4", "xfs"])
def test_only_a_filesystem_left_behind_by_its_device_is_short_of_it(release, fs):
    span, device = captured(release, fs, "made")
    assert span["fs_bytes"] == device and filesystem.short_of(span, device) == 0
    span, device = captured(release, fs, "device_grown")
    assert filesystem.short_of(span, device) == device - span["fs_bytes"] > span["group_bytes"]
    span, device = captured(release, fs, "grown")
    assert filesystem.short_of(span, device) == 0


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("fs", ["ext4", "xfs"])
def test_a_filesystem_short_of_its_device_is_grown_though_the_device_did_not_grow(release, fs):
    params = base_params(fs_type=fs)
    span, device = captured(release, fs, "device_grown")
    actions = filesystem.plan_filesystem(FS_TOOLS, params, {"TYPE": fs}, False, "/mnt/b", span,
                                         device)
    tool = "/sbin/resize2fs" if fs == "ext4" else "/sbin/xfs_growfs"
    assert [a[0] for a in argvs(actions)] == [tool]
    assert "unused: the device was grown without it" in actions[-1].why
    span, device = captured(release, fs, "grown")
    assert filesystem.plan_filesystem(FS_TOOLS, params, {"TYPE": fs}, False, "/mnt/b", span,
                                      device) == []


def test_a_superblock_without_the_fields_is_an_error_naming_them():
    ext4_text = [r for r in load("fs_span_bookworm")["commands"] if r["fs"] == "ext4"][0]["stdout"]
    with pytest.raises(ModuleError, match="no dblocks, blocksize, agblocks in its superblock"):
        filesystem.parse_span("xfs", ext4_text)
