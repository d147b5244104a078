"""lvm_thinpool_profile on a real kernel: the runbook's profile, attached and monitored, four ways;
LVM really autoextends the pool; refusals (bad numbers, no dmeventd) say how to fix and touch
nothing."""

import time

import pytest

from conftest import EVERY_RELEASE

# LVM, loop devices and filesystems differ between releases: every test here runs on each.
pytestmark = EVERY_RELEASE

PROFILE = "devmapper.storage.lvm_thinpool_profile"
MiB = 1 << 20


def state_of(guest):
    return guest.out("lvs -a -o lv_name,lv_size,lv_profile,seg_monitor docker 2>&1; "
                     "cat /etc/lvm/profile/docker-thinpool.profile 2>&1 || true")


def four_ways(guest, args):
    untouched = state_of(guest)
    check = guest.module(PROFILE, args, check=True, diff=True)
    assert check.get("changed") is True, check
    assert state_of(guest) == untouched
    real = guest.module(PROFILE, args, diff=True)
    assert real.get("changed") is True and not real.get("failed"), real
    assert [a["cmd"] for a in real["actions"]] == [a["cmd"] for a in check["actions"]]
    again = guest.module(PROFILE, args)
    assert again.get("changed") is False, again
    assert guest.module(PROFILE, args, check=True).get("changed") is False
    return real


@pytest.mark.disks("2G")
def test_profile_attached_monitored_and_autoextend_happens(fresh_disks):
    g = fresh_disks
    g.sh("pvcreate -q /dev/ubdb && vgcreate -q docker /dev/ubdb")
    made = g.module("devmapper.storage.dm_thinpool",
                    {"vg": "docker", "data_size": "200M", "metadata_size": "8M"})
    assert made.get("changed"), made
    before_size = made["pool"]["size"]

    for bad, message in (({"threshold": 40}, "threshold must be from 50 to 100"),
                         ({"percent": 120}, "percent must be from 0 to 100"),
                         ({"pool": "nosuch"}, "pool: docker/nosuch not found"),
                         ({"profile": "../x"}, "profile: must be a plain file name")):
        untouched = state_of(g)
        result = g.module(PROFILE, dict({"vg": "docker"}, **bad))
        assert result.get("failed") and message in result["msg"], (bad, result)
        assert result["changed"] is False and state_of(g) == untouched

    # no dmeventd at all: stopped, and its binary gone (LVM would start an installed one itself)
    # (unmonitor first: lvchange itself would start an installed dmeventd)
    g.sh("lvchange -q --monitor n docker/thinpool && "
         "systemctl stop dm-event.socket dm-event.service && (pkill -x dmeventd || true) && "
         "mv /sbin/dmeventd /sbin/dmeventd.away && rm -f /run/dmeventd-server /run/dmeventd-client")
    try:
        untouched = state_of(g)
        result = g.module(PROFILE, {"vg": "docker"})
        assert result.get("failed") and "systemctl enable --now dm-event.socket" in result["msg"]
        assert state_of(g) == untouched
    finally:
        g.sh("mv /sbin/dmeventd.away /sbin/dmeventd && systemctl start dm-event.socket")

    real = four_ways(g, {"vg": "docker"})
    assert real["monitored"] and real["attached_profile"] == "docker-thinpool"
    assert real["autoextend"] is True
    assert real["profile_path"] == "/etc/lvm/profile/docker-thinpool.profile"
    assert "thin_pool_autoextend_threshold=80" in g.out("cat " + real["profile_path"])
    assert g.out("lvs --noheadings -o lv_profile,seg_monitor docker/thinpool").split() == \
        ["docker-thinpool", "monitored"]

    # LVM grows the pool by itself once data passes 80 %
    g.sh("lvcreate -q -V 1G -T docker/thinpool -n vol && "
         "dd if=/dev/urandom of=/dev/docker/vol bs=1M count=175 oflag=direct 2>/dev/null")
    deadline = time.time() + 90
    size = before_size
    while time.time() < deadline and size <= before_size:
        time.sleep(3)
        size = int(g.out("lvs --noheadings --units b --nosuffix -o lv_size docker/thinpool"))
    assert size > before_size, "dmeventd did not autoextend the pool"

    changed = four_ways(g, {"vg": "docker", "threshold": 100})
    assert changed["autoextend"] is False
    assert "autoextend disabled" in changed["actions"][0]["why"]

    detached = four_ways(g, {"vg": "docker", "state": "absent"})
    assert detached["attached_profile"] is None
