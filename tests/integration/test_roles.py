"""The roles through site.yml on real-kernel guests, for what molecule's scenarios do not show:
check mode on fresh hosts runs end to end and changes nothing, and refusals touch nothing."""

import uuid

import pytest

from conftest import GUEST_VARS, GuestHandle, run_playbook, task_results
from host_snapshot import snapshot
from thin_superblock import set_needs_check

SNAPSHOT = ("set +e; for d in /etc/docker /etc/systemd/system /etc/systemd/system/docker.service.d "
            "/etc/devmapper-storage/pools /etc/lvm/profile /var/lib/docker-loop /var/lib/docker; "
            "do echo \"== $d\"; ls -la --time-style=+%s $d 2>&1; done; "
            "cat /etc/docker/daemon.json 2>&1; dmsetup ls 2>&1; losetup -a 2>&1; "
            "pvs 2>&1; vgs 2>&1; lvs -a 2>&1; wipefs -n /dev/ubdb 2>&1; "
            "systemctl is-active docker 2>&1; systemctl is-enabled docker 2>&1; "
            "systemctl is-enabled devmapper-pool@docker-thinpool 2>&1; true")
# check mode must not even load kernel modules (a refusal may: preflight runs before the checks
# that need its tools)
MODULES = "; ls /sys/module | grep -E '^(dm_thin_pool|loop)$' || true"


@pytest.fixture
def fleet(lab):
    """Two fresh guests: one in loop_lvm, one (with a 2G disk) in direct_lvm."""
    suffix = uuid.uuid4().hex[:4]
    names = {"loop": "rl" + suffix, "lvm": "rd" + suffix}
    try:
        lab.up([{"name": names["loop"], "disks": [], "groups": ["loop_lvm"]},
                {"name": names["lvm"], "disks": ["2G"], "groups": ["direct_lvm"]}])
        yield dict((k, GuestHandle(lab, v)) for k, v in names.items())
    finally:
        for name in names.values():
            if name in lab.guests:
                lab.remove_guest(lab.guests[name])


def test_check_mode_on_fresh_hosts_runs_through_and_changes_nothing(lab, fleet):
    limit = ",".join(g.name for g in fleet.values())
    before = dict((k, g.out(SNAPSHOT + MODULES)) for k, g in fleet.items())
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=limit, check=True,
                              diff=True, extra_vars=GUEST_VARS)
    failed = [(name, r.get("msg")) for g in fleet.values()
              for name, r in task_results(report, g.name) if r.get("failed")]
    assert rc == 0 and not failed, failed
    for key, guest in fleet.items():
        assert guest.out(SNAPSHOT + MODULES) == before[key], key
        changed = [name for name, r in task_results(report, guest.name) if r.get("changed")]
        # check mode says what a real run would do: it would make the pool and write daemon.json
        first_step = {"loop": "Sparse data and metadata files on loop devices",
                      "lvm": "Physical volumes and the volume group"}[key]
        assert any(first_step in n for n in changed), changed
        assert any("daemon.json" in n for n in changed), changed


def test_refusals_change_nothing(lab, fleet):
    lvm, loop = fleet["lvm"], fleet["loop"]
    # a disk with a filesystem is refused without force
    lvm.sh("mkfs.ext4 -q -F /dev/ubdb")
    before = lvm.out(SNAPSHOT)
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=lvm.name,
                              extra_vars=GUEST_VARS)
    msgs = [r.get("msg", "") for dummy, r in task_results(report, lvm.name) if r.get("failed")]
    # named as the role's user sets it (before option_names the message said force=true)
    assert rc != 0 and any("/dev/ubdb" in m and "direct_lvm_force=true" in m for m in msgs), msgs
    assert lvm.out(SNAPSHOT) == before

    # loop files larger than their filesystem can give them, refused when asked (by default a
    # warning), naming the role's variables and saying how much is free
    before = snapshot(loop)
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=loop.name,
                              extra_vars=dict(GUEST_VARS, loop_lvm_data_size="1T",
                                              loop_lvm_free_space_action="refuse",
                                              loop_lvm_free_space_reserve="1G"))
    rows = task_results(report, loop.name)
    msgs = [r.get("msg", "") for dummy, r in rows if r.get("failed")]
    refusal = [m for m in msgs if m.startswith("loop_lvm_free_space_action: the loop files")]
    assert rc != 0 and refusal, msgs
    assert "may grow to 1.0T" in refusal[0] and " free and " in refusal[0], refusal
    assert "1G is to stay free (loop_lvm_free_space_reserve)" in refusal[0], refusal
    # the only change before the refusal: preflight loads dm_thin_pool and loop (in no snapshot)
    assert [name for name, r in rows if r.get("changed")] == [
        "devmapper.storage.preflight : Load the kernel modules (check mode only proves they can "
        "be loaded)"]
    assert snapshot(loop) == before

    # a daemon.json that is not JSON is reported, not overwritten
    loop.sh("mkdir -p /etc/docker && printf '{\"log-level\": ' > /etc/docker/daemon.json")
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=loop.name,
                              extra_vars=GUEST_VARS)
    msgs = [r.get("msg", "") for dummy, r in task_results(report, loop.name) if r.get("failed")]
    assert rc != 0 and any("daemon.json cannot be merged" in m for m in msgs), msgs
    assert loop.out("cat /etc/docker/daemon.json") == '{"log-level": '
    assert loop.out("systemctl is-active docker || true").strip() != "active"

    # the loop pool and its boot unit are in place now (the play stopped at daemon.json): when
    # the unit cannot bring the pool up, the journal says why in one line, and Docker stays down
    unit = "devmapper-pool@docker-thinpool"
    loop.sh("dmsetup remove docker-thinpool && losetup -D && mv /usr/sbin/thin_check /root/")
    assert loop.sh("systemctl restart %s" % unit, check=False).returncode != 0
    log = loop.out("journalctl -o cat -u %s -n 20" % unit)
    assert "pool docker-thinpool: NOT ACTIVATED: thin_check is not installed" in log, log
    loop.sh("mv /root/thin_check /usr/sbin/ && cp /var/lib/docker-loop/metadata /root/meta.bak && "
            "losetup -D && dd if=/dev/urandom of=/var/lib/docker-loop/metadata bs=1 count=64 "
            "seek=64 conv=notrunc status=none")
    assert loop.sh("systemctl restart %s" % unit, check=False).returncode != 0
    log = loop.out("journalctl -o cat -u %s -n 20" % unit)
    assert "NOT ACTIVATED: thin_check found errors in the metadata" in log, log
    assert loop.sh("dmsetup info docker-thinpool", check=False).returncode != 0
    # the metadata back, with the needs_check flag a metadata error makes the kernel set: the
    # journal says thin_check cleared it (before issue 14 it said "if set"), and the pool is
    # writable
    loop.sh("losetup -D && cp /root/meta.bak /var/lib/docker-loop/metadata")
    set_needs_check(loop, "/var/lib/docker-loop/metadata")
    loop.sh("systemctl restart %s" % unit)
    log = loop.out("journalctl -o cat -u %s -n 5" % unit)
    assert "pool docker-thinpool: activated /dev/mapper/docker-thinpool" in log, log
    assert "(thin_check passed and cleared the needs_check flag the kernel had set)" in log, log
    status = loop.out("dmsetup status docker-thinpool").split()
    assert "needs_check" not in status and "rw" in status, status

    # files on a late mount: the unit waits for its mounts and for the files (before the fix it
    # failed at once with "backing file ... is missing")
    assert "/var/lib/docker-loop" in loop.out(
        "systemctl show -p RequiresMountsFor %s" % unit), "no RequiresMountsFor"
    loop.sh("systemctl stop docker.service docker.socket; dmsetup remove docker-thinpool && "
            "losetup -D && mv /var/lib/docker-loop /var/lib/docker-loop.late && "
            "systemctl restart --no-block %s && sleep 4 && "
            "mv /var/lib/docker-loop.late /var/lib/docker-loop" % unit)
    loop.sh("for i in $(seq 60); do systemctl is-active --quiet %s && exit 0; sleep 1; done; "
            "exit 1" % unit)
    assert loop.out("dmsetup table docker-thinpool").split()[2] == "thin-pool"

    # check mode on loop files that exist but are not attached (a boot whose unit did not run):
    # it runs through, saying what it would attach, and changes nothing (before the fix the pool
    # step failed on "(a free loop device) does not exist")
    loop.sh("systemctl stop docker.service docker.socket; dmsetup remove docker-thinpool && "
            "losetup -D && rm /etc/docker/daemon.json")
    before = snapshot(loop)
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=loop.name,
                              check=True, extra_vars=GUEST_VARS)
    rows = task_results(report, loop.name)
    assert rc == 0 and not [(n, r.get("msg")) for n, r in rows if r.get("failed")]
    attach = [r for name, r in rows if "Sparse data and metadata files" in name]
    assert attach and attach[0].get("changed"), attach
    assert snapshot(loop) == before
