"""playbooks/migrate.yml on real-kernel guests, for what the migrate scenarios do not show:
refusals change nothing, a failure after Docker was stopped rolls back (removing the VG the
migration made), and a power cut at every registered step of a migration, each followed by a boot
and a re-run, ends with nothing lost (test_busy_migration has the busy host).

The fault test writes what it covered to .test-reports/migration-faults.txt (scripts/test prints
it at the end)."""

import json
import os
import subprocess
import time

import pytest

import migration_host
from ansible_collections.devmapper.storage.plugins.module_utils.migration.steps import STEP_NAMES
from conftest import REPO, ansible_env, run_playbook, saved_guest
from migration_host import MIGRATION_VARS, failures

# One fault point per registered step: the test waits for each to be reached, so a step without
# one fails it.
STEPS = list(STEP_NAMES)
STATE = "/var/lib/devmapper-storage/migration.json"
# names only where a running Docker and its pool write on their own (the loop files' mtimes move);
# no relative times ("20 seconds ago") from docker either
SNAPSHOT = ("set +e; for d in /etc/docker /etc/systemd/system /etc/systemd/system/docker.service.d "
            "/etc/devmapper-storage/pools /mnt/small; "
            "do echo \"== $d\"; ls -la --time-style=+%s $d 2>&1; done; "
            "ls -a /var/lib /var/lib/docker /var/lib/docker-loop 2>&1; "
            "cat /etc/docker/daemon.json 2>&1; dmsetup ls 2>&1 | sort; losetup -a 2>&1 | sort; "
            "pvs 2>&1; vgs 2>&1; lvs -a 2>&1; wipefs /dev/ubdb 2>&1; "
            "systemctl is-active docker 2>&1; systemctl is-enabled docker docker.socket 2>&1; "
            "docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>&1; "
            "docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.Image}} {{.State}}' 2>&1; "
            "docker volume ls 2>&1; true")
VOLUME_SUMS = ("cd $(docker volume inspect --format '{{.Mountpoint}}' appdata) && "
               "find . -type f -exec sha256sum {} + ; find . -type l -printf 'L %p %l\\n'")


@pytest.fixture
def prepared(lab):
    """(guest, expected images and files): a loop-lvm host with the workload, of the test's own.
    The converge is not what these tests are about: it is made once and saved (each test boots a
    copy), and the molecule scenarios loop_lvm and migrate show it working."""
    guest = saved_guest(lab, migration_host.key(), migration_host.SPEC,
                        lambda handle: migration_host.converge_loop_host(lab, handle))
    try:
        yield guest, json.loads(guest.out("cat /root/migration-expect.json"))
    finally:
        if guest.name in lab.guests:
            lab.remove_guest(lab.guest(guest.name))


def migrate(lab, guest, **extra):
    return run_playbook(lab.inventory_path, "playbooks/migrate.yml", limit=guest.name,
                        extra_vars=dict(MIGRATION_VARS, **extra))


def state(guest):
    return json.loads(guest.out("cat %s" % STATE))


def volume_sums(guest):
    sums = {}
    for line in guest.out(VOLUME_SUMS).splitlines():
        if line.startswith("L "):
            dummy, path, target = line.split(" ", 2)
            sums[path[2:]] = "symlink:" + target
        else:
            digest, path = line.split(None, 1)
            sums[path.strip()[2:]] = digest
    return sums


def image_ids(guest, tags):
    return dict((tag, guest.out("docker image inspect --format '{{.Id}}' %s" % tag).strip())
                for tag in tags)


def assert_nothing_lost(guest, expect):
    assert image_ids(guest, expect["images"]) == expect["images"]
    assert volume_sums(guest) == expect["files"]
    assert guest.out("docker run --rm --network none app:1 cat /etc/app-release").strip() == "app-v1"


@pytest.mark.saved_guest("migration-loop-host")
def test_refusals_change_nothing_and_a_failure_rolls_back(lab, prepared):
    guest, expect = prepared
    guest.sh("mkdir -p /mnt/small && mount -t tmpfs -o size=1m tmpfs /mnt/small")

    # not enough space for the backup (an archive on a 1 MiB filesystem)
    before = guest.out(SNAPSHOT)
    rc, report = migrate(lab, guest, storage_migration_backup_mode="archive",
                         storage_migration_backup_dir="/mnt/small/backup")
    assert rc != 0
    assert any("not enough space for the migration's backup" in (msg or "")
               and "/mnt/small" in msg for dummy, msg in failures(report, guest)), \
        failures(report, guest)
    assert guest.out(SNAPSHOT) == before

    # a target device with a filesystem
    guest.sh("mkfs.ext4 -q -F /dev/ubdb")
    before = guest.out(SNAPSHOT)
    rc, report = migrate(lab, guest)
    assert rc != 0
    assert any("/dev/ubdb" in (msg or "") and "direct_lvm_force=true" in msg
               for dummy, msg in failures(report, guest)), failures(report, guest)
    assert guest.out(SNAPSHOT) == before
    guest.sh("wipefs -a -q /dev/ubdb")

    # a failure after Docker was stopped (injected at verify, the last step): everything is put
    # back and Docker runs on the loop pool with the same images
    config_before = guest.out("cat /etc/docker/daemon.json /etc/devmapper-storage/pools/*.conf")
    rc, report = migrate(lab, guest, storage_migration_fault_point="fail:verify")
    assert rc != 0
    msgs = " ".join(msg or "" for dummy, msg in failures(report, guest))
    assert "rolled back" in msgs and "fault injected at step verify" in msgs, msgs
    rolled = state(guest)
    assert rolled["phase"] == "rolled_back"
    assert rolled["rollback_files_verified"] > 0
    assert guest.out("cat /etc/docker/daemon.json /etc/devmapper-storage/pools/*.conf") == \
        config_before
    assert "loop" in guest.out("dmsetup deps -o devname docker-thinpool")
    # the VG the migration made is gone again, and the disk is free
    assert guest.sh("vgs docker", check=False).returncode != 0
    assert guest.out("wipefs /dev/ubdb").strip() == ""
    assert guest.out("systemctl is-active docker").strip() == "active"
    assert_nothing_lost(guest, expect)
    assert guest.out("docker ps -a --format '{{.Names}}'").split() == ["keeper"]
    # (that a later run then migrates: test_busy_migration, on a VG it did not make)


def start_migration(lab, guest, fault_point):
    argv = ["ansible-playbook", "-i", lab.inventory_path,
            os.path.join(REPO, "playbooks/migrate.yml"), "--limit", guest.name,
            "-e", json.dumps(dict(MIGRATION_VARS, storage_migration_fault_point=fault_point))]
    return subprocess.Popen(argv, cwd=REPO, env=ansible_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True)


def wait_for_fault(guest, proc, step, timeout=900):
    deadline = time.time() + timeout
    while time.time() < deadline:
        reached = guest.sh("cat /run/devmapper-migration-fault 2>/dev/null", check=False)
        if reached.stdout.strip() == step:
            return
        if proc.poll() is not None:
            raise AssertionError("migrate.yml ended (rc=%s) before reaching step %s:\n%s"
                                 % (proc.returncode, step, proc.stdout.read()[-6000:]))
        time.sleep(2)
    proc.kill()
    raise AssertionError("step %s not reached in %d s" % (step, timeout))


@pytest.mark.saved_guest("migration-loop-host")
def test_power_cut_at_every_step_then_a_rerun_finishes_with_nothing_lost(lab, prepared):
    guest, expect = prepared
    covered = []
    for step in STEPS:
        proc = start_migration(lab, guest, "hang:" + step)
        try:
            wait_for_fault(guest, proc, step)
            # the step's effect is done and not yet recorded: the worst moment to lose power
            guest.reboot(crash=True)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        recorded = state(guest)
        assert recorded["phase"] == "migrating"
        assert step not in recorded["done"]
        assert recorded["done"] == STEPS[:STEPS.index(step)]
        covered.append(step)
    rc, report = migrate(lab, guest)
    assert rc == 0, failures(report, guest)
    final = state(guest)
    assert final["phase"] == "complete" and final["done"] == STEPS
    assert_nothing_lost(guest, expect)
    # and after one more power cut, too
    guest.reboot(crash=True)
    assert_nothing_lost(guest, expect)
    files = len(expect["files"])
    report_dir = os.path.join(REPO, ".test-reports")
    if not os.path.isdir(report_dir):
        os.makedirs(report_dir)
    line = ("migration fault test: %d injection points (power cut after the effect of each step, "
            "before its record: %s); after the re-run %d images (%d tags) and %d volume files "
            "verified by checksum, twice (after the re-run and after one more power cut)\n"
            % (len(covered), ", ".join(covered), len(set(expect["images"].values())),
               len(expect["images"]), files))
    with open(os.path.join(report_dir, "migration-faults.txt"), "w") as handle:
        handle.write(line)
    print(line)
