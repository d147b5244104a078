"""loop_pool on a real kernel: each operation four ways (check, real, idempotent re-run, re-run in
check mode), growth with a mounted filesystem on the loop device, and refusals that touch nothing."""

import uuid

import pytest

from conftest import EVERY_RELEASE

# LVM, loop devices and filesystems differ between releases: every test here runs on each.
pytestmark = EVERY_RELEASE

MiB = 1 << 20


@pytest.fixture
def guest(fresh_disks):
    """The release's disk host (tests/conftest.py): loop_pool needs no disks of its own, and
    fresh_disks takes its loop devices and files away afterwards."""
    return fresh_disks


@pytest.fixture
def workdir(guest):
    path = "/var/tmp/lp-" + uuid.uuid4().hex[:8]
    guest.sh("mkdir -p " + path)
    yield path
    guest.sh("for f in %s/*; do for l in $(losetup -j $f -O NAME -n); do umount $l 2>/dev/null; "
             "losetup -d $l; done; done; rm -rf %s" % (path, path))


def snapshot(guest):
    """What a refused call must leave exactly as it was."""
    return guest.out("losetup --list --noheadings -O NAME,BACK-FILE,SIZELIMIT; dmsetup table; "
                     "lvs 2>&1; ls -ls /var/tmp/lp-* 2>&1")


def four_ways(guest, args):
    untouched = snapshot(guest)
    check = guest.module("devmapper.storage.loop_pool", args, check=True, diff=True)
    assert check.get("changed") is True, check
    assert snapshot(guest) == untouched, "check mode changed the host"
    real = guest.module("devmapper.storage.loop_pool", args, diff=True)
    assert real.get("changed") is True, real
    again = guest.module("devmapper.storage.loop_pool", args)
    assert again.get("changed") is False and again["actions"] == [], again
    again_check = guest.module("devmapper.storage.loop_pool", args, check=True)
    assert again_check.get("changed") is False, again_check
    return check, real


def test_create_grow_and_detach(guest, workdir):
    args = {"data_file": workdir + "/data", "metadata_file": workdir + "/meta",
            "data_size": "256M", "metadata_size": "16M"}
    check, real = four_ways(guest, args)
    assert [a["cmd"].split()[0].rsplit("/", 1)[1] for a in check["actions"]] == \
        ["truncate", "losetup", "truncate", "losetup"]
    assert check["diff"]["before"]["data"]["exists"] is False
    assert check["data"]["size"] == 256 * MiB          # check mode predicts the outcome
    assert real["data"]["size"] == real["data"]["loop_size"] == 256 * MiB
    assert real["metadata"]["size"] == 16 * MiB
    assert real["data"]["allocated_bytes"] == 0        # sparse
    loop = real["data"]["loop_device"]
    assert guest.out("losetup -j %s/data -O NAME -n" % workdir).strip() == loop

    # a filesystem on the loop device stays mounted and intact while it grows
    # inode tables and journal initialised now: ext4lazyinit writes them in the background
    # otherwise, and the loop file's mtime would change under the next check-mode snapshot
    guest.sh("mkfs.ext4 -q -E lazy_itable_init=0,lazy_journal_init=0 %s && mkdir -p %s/mnt && "
             "mount %s %s/mnt && "
             "head -c 5M /dev/urandom > %s/mnt/f && sync" % (loop, workdir, loop, workdir, workdir))
    digest = guest.out("md5sum %s/mnt/f" % workdir)
    grow = dict(args, data_size="512M")
    grown = four_ways(guest, grow)[1]
    assert grown["data"]["loop_device"] == loop        # same device, grown online
    assert int(guest.out("blockdev --getsize64 " + loop)) == 512 * MiB
    assert guest.out("md5sum %s/mnt/f" % workdir) == digest
    assert grown["data"]["allocated_bytes"] >= 5 * MiB

    # absent refuses while something holds it? a mounted fs is not a dm holder; unmount first
    guest.sh("umount %s/mnt" % workdir)
    gone = dict(args, state="absent")
    gone.pop("data_size")
    gone.pop("metadata_size")
    detached = four_ways(guest, gone)[1]
    assert detached["data"]["loop_device"] is None and detached["data"]["exists"] is True


def test_refusals_name_the_parameter_and_touch_nothing(guest, workdir):
    args = {"data_file": workdir + "/data", "metadata_file": workdir + "/meta",
            "data_size": "64M", "metadata_size": "8M"}
    guest.module("devmapper.storage.loop_pool", args)
    guest.sh("dmsetup create lp-hold-%s --table \"0 2048 linear $(losetup -j %s/data -O NAME -n) 0\""
             % (workdir[-8:], workdir))
    try:
        before = snapshot(guest)
        cases = [
            (dict(args, data_size="32M"), "data_size: refusing to shrink"),
            (dict(args, metadata_size="12X"), "metadata_size"),
            (dict(args, metadata_file=args["data_file"]), "must be different"),
            # sparse sizes beyond what the filesystem has, refused when asked, by the name the
            # caller gave the option
            (dict(args, data_size="1T", free_space_action="refuse",
                  option_names={"free_space_action": "loop_lvm_free_space_action"}),
             "loop_lvm_free_space_action: the loop files (data_size 1T, metadata_size 8M) may "
             "grow to"),
            ({"data_file": workdir + "/new", "metadata_file": workdir + "/meta"},
             "give data_size"),
            ({"data_file": args["data_file"], "metadata_file": args["metadata_file"],
              "state": "absent"}, "held open by lp-hold"),
            ({"data_file": args["data_file"], "metadata_file": args["metadata_file"],
              "state": "absent", "remove_files": True}, "held open"),
            ({"data_file": "/dev/ubdb", "metadata_file": args["metadata_file"]},
             "not a regular file"),
        ]
        for bad, message in cases:
            result = guest.module("devmapper.storage.loop_pool", bad)
            assert result.get("failed") is True, (bad, result)
            assert message in result["msg"], (bad, result["msg"])
            assert result.get("changed") is False
        assert snapshot(guest) == before
    finally:
        guest.sh("dmsetup remove lp-hold-%s" % workdir[-8:])


def test_files_beyond_the_free_space_are_warned_of_and_their_directory_made(guest, workdir):
    args = {"data_file": workdir + "/new/data", "metadata_file": workdir + "/new/meta",
            "data_size": "1T", "metadata_size": "8M"}
    result = guest.module("devmapper.storage.loop_pool", args)
    assert result.get("changed") is True and not result.get("failed"), result
    assert result["actions"][0]["cmd"].endswith("mkdir -p -m 0700 %s/new" % workdir), result
    warnings = [w for w in result.get("warnings", []) if "free_space_action" in w]
    assert len(warnings) == 1 and "may grow to 1.0T" in warnings[0], result.get("warnings")
    assert guest.out("stat -c %%a %s/new" % workdir).strip() == "700"
    assert result["data"]["loop_device"].startswith("/dev/loop")


def test_info_reports_without_changing(guest, workdir):
    args = {"data_file": workdir + "/data", "metadata_file": workdir + "/meta",
            "data_size": "64M", "metadata_size": "8M"}
    made = guest.module("devmapper.storage.loop_pool", args)
    info = guest.module("devmapper.storage.loop_pool_info",
                        {"data_file": args["data_file"], "metadata_file": args["metadata_file"]})
    assert info["changed"] is False and info["actions"] == []
    assert info["data"] == made["data"] and info["metadata"] == made["metadata"]
