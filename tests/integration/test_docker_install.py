"""docker_daemon on hosts the molecule scenarios do not cover: one without Docker (the role
installs the distribution's package only when asked, and Docker's first start already uses the
pool), and one whose running Docker holds an image on another driver (refused before any disk is
touched). The first host then lives through what its pool can go through (issue 18): filled to
100 % under running containers and back with playbooks/recover-full.yml, grown with resize.yml,
reactivated, then its metadata damaged on purpose (one container's mapping tree overwritten) and
back with playbooks/repair-metadata.yml."""

import uuid

import pytest

from conftest import GUEST_VARS, GuestHandle, run_playbook, task_results
from thin_superblock import damage_mapping_tree

# The image keeps docker.io's package in a file repository (tools/testhost guest/customize.sh);
# the Debian mirror is out of reach for a guest, so it is the only apt source here.
LOCAL_APT = ("mkdir -p /root/apt-sources && "
             "mv /etc/apt/sources.list.d/* /root/apt-sources/ 2>/dev/null; "
             "rm -f /etc/apt/sources.list; "
             "echo 'deb [trusted=yes] file:/opt/testhost-repo ./' "
             "> /etc/apt/sources.list.d/testhost.list && apt-get -qq update")


@pytest.fixture
def one_guest(lab, request):
    group, disks = request.param
    name = "di" + uuid.uuid4().hex[:5]
    try:
        lab.up([{"name": name, "disks": disks, "groups": [group]}])
        yield GuestHandle(lab, name)
    finally:
        if name in lab.guests:
            lab.remove_guest(lab.guests[name])


def failures(report, host):
    return [r.get("msg", "") for dummy, r in task_results(report, host) if r.get("failed")]


@pytest.mark.parametrize("one_guest", [("loop_lvm", [])], indirect=True)
def test_docker_installed_first_started_on_the_pool_back_from_full_and_damaged_pools(
        lab, one_guest):
    g = one_guest
    g.sh(LOCAL_APT + " && apt-get -qq -y remove docker.io && rm -rf /var/lib/docker")
    assert g.sh("command -v dockerd", check=False).returncode != 0

    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=g.name,
                              extra_vars=GUEST_VARS)
    msgs = failures(report, g.name)
    assert rc != 0 and any(m.startswith("docker_daemon_install: Docker is not installed")
                           for m in msgs), msgs
    assert g.sh("command -v dockerd", check=False).returncode != 0
    assert '"storage-driver": "devicemapper"' in g.out("cat /etc/docker/daemon.json")

    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=g.name,
                              extra_vars=dict(GUEST_VARS, docker_daemon_install=True))
    assert rc == 0, failures(report, g.name)
    installed = [r for name, r in task_results(report, g.name) if name.endswith("Install Docker")]
    assert installed and installed[0].get("changed"), installed
    assert g.out("docker info --format '{{.Driver}}'").strip() == "devicemapper"
    # daemon.json was in place before the package's first start: Docker never ran on another driver
    assert g.out("ls /var/lib/docker").split().count("devicemapper") == 1
    assert not set(g.out("ls /var/lib/docker").split()) & {"overlay2", "vfs", "aufs", "btrfs"}
    assert g.out("systemctl is-enabled docker").strip() == "enabled"

    digest = back_from_a_full_pool(lab, g)

    # resize.yml grows the loop pool online, with Docker running on it
    rc, report = run_playbook(lab.inventory_path, "playbooks/resize.yml", limit=g.name,
                              extra_vars=dict(GUEST_VARS, loop_lvm_data_size="3G"))
    assert rc == 0, failures(report, g.name)
    total = g.out("docker info --format '{{json .DriverStatus}}'")
    assert '["Data Space Total","3.221GB"]' in total, total

    # reactivate.yml brings back a pool that is gone (as after a boot without the unit) and Docker
    g.sh("systemctl stop docker.service docker.socket && dmsetup remove docker-thinpool && "
         "losetup -D")
    rc, report = run_playbook(lab.inventory_path, "playbooks/reactivate.yml", limit=g.name,
                              extra_vars=GUEST_VARS)
    assert rc == 0, failures(report, g.name)
    assert g.out("dmsetup status docker-thinpool").split()[2] == "thin-pool"
    assert g.out("docker info --format '{{.Driver}}'").strip() == "devicemapper"

    back_from_damaged_metadata(lab, g, digest)


@pytest.mark.parametrize("one_guest", [("direct_lvm", ["1G"])], indirect=True)
def test_running_docker_with_an_image_on_another_driver_is_refused_before_any_change(
        lab, one_guest):
    g = one_guest
    g.sh("mkdir -p /etc/docker && echo '{\"storage-driver\": \"vfs\", \"iptables\": false, "
         "\"bridge\": \"none\"}' > /etc/docker/daemon.json && systemctl start docker && "
         "d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && "
         "tar -C $d -c . | docker import - keep:me >/dev/null")
    before = g.out("cat /etc/docker/daemon.json; docker images -q; pvs; wipefs -n /dev/ubdb; "
                   "ls /etc/systemd/system")
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=g.name,
                              extra_vars=GUEST_VARS)
    msgs = failures(report, g.name)
    assert rc != 0 and any("Docker runs on vfs with 1 images" in m for m in msgs), msgs
    assert any("docker_daemon_allow_driver_change=true" in m for m in msgs)
    assert g.out("cat /etc/docker/daemon.json; docker images -q; pvs; wipefs -n /dev/ubdb; "
                 "ls /etc/systemd/system") == before


# Two containers on the 1G pool; one writes known bytes, then fills the pool until it is out of
# data space and fails writes (no_space_timeout 5 s instead of 60, to spare the wait).
FULL = r"""set -e
echo 5 > /sys/module/dm_thin_pool/parameters/no_space_timeout
d=$(mktemp -d); mkdir -p $d/bin $d/tmp; cp /bin/busybox $d/bin/; ln -s busybox $d/bin/sh
tar -C $d -cf /root/bb.tar .; rm -rf $d; docker import /root/bb.tar bb:1 >/dev/null
docker run -d --name writer --network none bb:1 busybox sleep 100000 >/dev/null
docker run -d --name victim --network none bb:1 busybox sleep 100000 >/dev/null
docker exec writer sh -c 'busybox head -c 20000000 /dev/urandom > /before.bin && busybox sync'
docker exec -d writer busybox dd if=/dev/zero of=/fill bs=1M count=1500
for i in $(busybox seq 120); do
    case "$(dmsetup status docker-thinpool)" in
        *out_of_data_space*error_if_no_space*) exit 0;;
    esac
    sleep 1
done
exit 1
"""
# XFS retries a metadata write that failed for want of space and stays up; one that failed for
# good shuts it down (EIO on every call), and only a new mount brings it back. That is made here.
SHUT_DOWN = "xfs_io -x -c shutdown /proc/$(docker inspect --format '{{.State.Pid}}' victim)/root/"
STARTED = "docker inspect --format '{{.State.StartedAt}}' writer victim"
POOL = "dmsetup status docker-thinpool; losetup -l -n -O NAME,SIZELIMIT,BACK-FILE; " \
       "stat -c %s /var/lib/docker-loop/data"


def recover(lab, g, check=False, **extra):
    """recover-full.yml on the guest: (rc, failed messages, tasks that changed, what it said)."""
    rc, report = run_playbook(lab.inventory_path, "playbooks/recover-full.yml", limit=g.name,
                              check=check, extra_vars=dict(GUEST_VARS, **extra))
    rows = task_results(report, g.name)
    said = [r.get("msg") for name, r in rows if name == "Say what was done"]
    return rc, failures(report, g.name), [n for n, r in rows if r.get("changed")], said


def back_from_a_full_pool(lab, g):
    lab.run(g.record, "bash -s", check=True, input_text=FULL, timeout=300)
    digest = g.out("docker exec writer busybox sha256sum /before.bin")
    g.sh(SHUT_DOWN)
    full = g.out("dmsetup status docker-thinpool").split()
    assert full[7] == "out_of_data_space" and full[5] == "16384/16384", full
    assert g.sh("docker exec victim busybox ls /", check=False).returncode != 0
    pool, started = g.out(POOL), g.out(STARTED)

    # the size it has: refused, saying what to set, nothing changed
    rc, failed, changed, said = recover(lab, g)
    assert rc != 0 and failed == [
        "pool docker-thinpool is still out of data space (1G of 1G in use): give "
        "loop_lvm_data_size larger than 1G"] and changed == [], (failed, changed)
    assert (g.out(POOL), g.out(STARTED)) == (pool, started)

    # check mode: says what it would restart, changes nothing
    rc, failed, changed, said = recover(lab, g, check=True, loop_lvm_data_size="2G")
    assert rc == 0 and not failed, failed
    assert said and said[0].startswith("%s: containers to restart: victim;" % g.name), said
    assert (g.out(POOL), g.out(STARTED)) == (pool, started)

    rc, failed, changed, said = recover(lab, g, loop_lvm_data_size="2G")
    assert rc == 0 and not failed, failed
    assert said[0].startswith("%s: containers restarted: victim; Docker restarted: no." % g.name)
    status = g.out("dmsetup status docker-thinpool").split()
    assert status[7] == "rw" and status[5].endswith("/32768"), status
    writer, victim = g.out(STARTED).split()
    assert writer == started.split()[0] and victim != started.split()[1]
    # the bytes written before the pool filled are there, and both containers write again
    assert g.out("docker exec writer busybox sha256sum /before.bin") == digest
    g.sh("docker exec writer sh -c 'busybox head -c 5000000 /dev/urandom > /after.bin && "
         "busybox sync'")
    assert g.out("docker exec victim sh -c 'echo back > /new && busybox sync && "
                 "busybox cat /new'").strip() == "back"

    rc, failed, changed, said = recover(lab, g, loop_lvm_data_size="2G")
    assert rc == 0 and changed == [], changed
    assert said[0].startswith("%s: containers restarted: none;" % g.name)
    return digest


META = "/var/lib/docker-loop/metadata"
FILES = "sha256sum %s; ls /var/lib/docker-loop" % META


def repair(lab, g, check=False):
    """repair-metadata.yml on the guest: (rc, failed messages, changed tasks, the repair's
    actions)."""
    rc, report = run_playbook(lab.inventory_path, "playbooks/repair-metadata.yml", limit=g.name,
                              check=check, extra_vars=GUEST_VARS)
    rows = task_results(report, g.name)
    actions = [a["cmd"] for name, r in rows if name.endswith("keeping the damaged one")
               for a in r.get("actions", [])]
    return rc, failures(report, g.name), [n for n, r in rows if r.get("changed")], actions


def back_from_damaged_metadata(lab, g, digest):
    victim = int(g.out("docker inspect --format '{{.GraphDriver.Data.DeviceId}}' victim"))
    # Docker and the pool down, as a boot whose pool unit failed on thin_check leaves them, and
    # the mapping tree of the victim's thin device overwritten
    g.sh("systemctl stop docker.service docker.socket && dmsetup remove docker-thinpool && "
         "losetup -D")
    damage_mapping_tree(g, META, victim)
    assert g.sh("thin_check %s" % META, check=False).returncode != 0
    rc, report = run_playbook(lab.inventory_path, "playbooks/reactivate.yml", limit=g.name,
                              extra_vars=GUEST_VARS)
    assert rc != 0 and any("thin_check found damaged metadata" in m and
                           "playbooks/repair-metadata.yml" in m
                           for m in failures(report, g.name)), failures(report, g.name)
    g.sh("losetup -D")
    files = g.out(FILES)

    # check mode lists every command and changes nothing
    rc, failed, changed, planned = repair(lab, g, check=True)
    assert rc == 0 and not failed, failed
    steps = [c.split()[0].split("/")[-1] for c in planned]
    assert steps == ["thin_dump", "truncate", "thin_repair", "thin_check", "compare", "mv",
                     "mv"], planned
    assert "-i %s -o %s.repaired" % (META, META) in planned[2], planned
    assert g.out(FILES) == files

    rc, failed, changed, done = repair(lab, g)
    assert rc == 0 and not failed, failed
    kept = [n for n in g.out("ls /var/lib/docker-loop").split() if n.startswith("metadata.dam")]
    assert len(kept) == 2 and kept[1] == kept[0] + ".xml", kept
    # the damaged metadata is kept as it was; the pool runs on the repaired one, Docker on it
    assert g.out("sha256sum /var/lib/docker-loop/%s" % kept[0]).split()[0] == files.split()[0]
    assert g.out("dmsetup status docker-thinpool").split()[7] == "rw"
    assert g.out("systemctl is-active docker").strip() == "active"
    # the thin devices that survived are readable: the writer's bytes and the image; the
    # victim's filesystem was in the tree that was lost
    g.sh("docker start writer")
    assert g.out("docker exec writer busybox sha256sum /before.bin") == digest
    g.sh("docker run --rm --network none bb:1 busybox true")
    assert g.sh("docker start victim", check=False).returncode != 0

    rc, failed, changed, done = repair(lab, g)
    assert rc == 0 and changed == [] and done == [], (changed, done)
