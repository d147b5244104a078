"""A step that fails half-way never leaves a device suspended or half-made LVs behind (issue 14,
D4 and D8), on a real kernel: a wrapper put before the real tool in the guest's PATH makes one step
fail (the kernel or LVM would only fail it by accident), and the module must resume what it
suspended, remove what it made, report the failed step and what it undid, and let the corrected
run finish."""

import pytest

MiB = 1 << 20
POOL = "devmapper.storage.dm_thinpool"
LOOPS = "devmapper.storage.loop_pool"
SNAP = "devmapper.storage.dm_snapshot"
BASE = "devmapper.storage.dm_base_device"

# One release: what is proven is the modules' undo path, not the release's tools.
pytestmark = pytest.mark.parametrize("release", ["bookworm"], indirect=True)


def failing(g, tool, pattern):
    """/usr/local/sbin/TOOL (first in root's PATH, where the modules look first) fails when its
    arguments match ``pattern`` (a shell case pattern) and runs the real tool otherwise."""
    real = g.out("command -v %s" % tool).strip()
    assert real and not real.startswith("/usr/local"), real
    g.sh("printf '%%s\\n' '#!/bin/sh' 'case \"$*\" in %s) echo \"injected failure: %s $*\" >&2; "
         "exit 1;; esac' 'exec %s \"$@\"' > /usr/local/sbin/%s && chmod 755 /usr/local/sbin/%s"
         % (pattern, tool, real, tool, tool))


def healed(g, tool):
    g.sh("rm -f /usr/local/sbin/%s" % tool)


def state(g, name):
    return g.out("dmsetup info -c --noheadings -o name,suspended %s" % name).split(":")[-1].strip()


@pytest.mark.disks("1G")
def test_a_failed_reload_or_snapshot_message_leaves_nothing_suspended(fresh_disks):
    g = fresh_disks
    g.sh("mkdir -p /var/lib/fs && modprobe dm_thin_pool")
    files = {"data_file": "/var/lib/fs/data", "metadata_file": "/var/lib/fs/meta"}
    loops = g.module(LOOPS, dict(files, data_size="256M", metadata_size="16M"))
    args = {"backend": "dm", "name": "fs-pool", "data_device": loops["data"]["loop_device"],
            "metadata_device": loops["metadata"]["loop_device"]}
    assert g.module(POOL, args)["changed"]

    # the pool grows by suspend, reload, resume: the reload fails
    assert g.module(LOOPS, dict(files, data_size="512M"))["changed"]
    failing(g, "dmsetup", "reload*")
    try:
        result = g.module(POOL, args)
    finally:
        healed(g, "dmsetup")
    assert result.get("failed") and "injected failure" in result["stderr"], result
    # the module ran the wrapper (get_bin_path looks in PATH, /usr/local/sbin first)
    assert result["failed_action"]["cmd"].startswith("/usr/local/sbin/dmsetup reload fs-pool "
                                                     "--table "), result
    assert [a["cmd"].split()[1:] for a in result["actions_done"]] == [["suspend", "fs-pool"]]
    assert result["undone_after_failure"] == [result["actions_done"][0]["cmd"].replace(
        "suspend", "resume")], result
    assert state(g, "fs-pool") == "Active"
    assert g.out("dmsetup table fs-pool").split()[1] == str(256 * MiB // 512)
    grown = g.module(POOL, args)
    assert grown["changed"] and grown["pool"]["data_total_bytes"] == 512 * MiB, grown

    # a snapshot of an active origin suspends it around the message: the message fails
    base = g.module(BASE, {"pool": "fs-pool", "name": "fs-base", "size": "128M",
                           "fs_type": "ext4"})
    assert base["changed"] and not base.get("failed"), base
    failing(g, "dmsetup", "message*create_snap*")
    try:
        result = g.module(SNAP, {"pool": "fs-pool", "origin_id": 0, "snapshot_id": 1,
                                 "name": "fs-snap"})
    finally:
        healed(g, "dmsetup")
    assert result.get("failed") and "injected failure" in result["stderr"], result
    assert result["undone_after_failure"][0].endswith("resume fs-base"), result
    assert state(g, "fs-base") == "Active"
    g.sh("dd if=/dev/mapper/fs-base of=/dev/null bs=1M count=4 iflag=direct")   # answers I/O
    taken = g.module(SNAP, {"pool": "fs-pool", "origin_id": 0, "snapshot_id": 1,
                            "name": "fs-snap"})
    assert taken["changed"] and taken["thin_ids"] == [0, 1], taken


@pytest.mark.disks("1G")
def test_a_failed_lvm_pool_leaves_no_lv_and_a_bad_chunk_size_makes_none(fresh_disks):
    g = fresh_disks
    g.sh("pvcreate -q /dev/ubdb && vgcreate -q fs /dev/ubdb")
    lvs = "lvs --noheadings -o lv_name fs"
    # refused before any lvcreate: nothing made, nothing run
    bad = g.module(POOL, {"vg": "fs", "name": "pool", "chunk_size": "100K"})
    assert bad.get("failed") and bad["msg"].startswith("chunk_size"), bad
    assert not bad.get("actions_done") and bad["changed"] is False
    assert g.out(lvs).split() == []

    # the metadata LV's lvcreate fails: the data LV made before it is removed again
    failing(g, "lvcreate", "*poolmeta*")
    try:
        result = g.module(POOL, {"vg": "fs", "name": "pool"})
    finally:
        healed(g, "lvcreate")
    assert result.get("failed") and "injected failure" in result["stderr"], result
    assert result["failed_action"]["cmd"].startswith("/usr/local/sbin/lvcreate "), result
    assert [a["cmd"].split()[-1] for a in result["actions_done"]] == ["fs"], result
    assert len(result["undone_after_failure"]) == 1, result
    assert result["undone_after_failure"][0].endswith("lvremove --yes fs/pool"), result
    assert g.out(lvs).split() == []
    made = g.module(POOL, {"vg": "fs", "name": "pool"})
    assert made["changed"] and made["pool"]["exists"], made
    assert sorted(g.out(lvs).split()) == ["pool"]
