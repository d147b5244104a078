"""Hosts the collection did not set up (issue 14), on real-kernel guests: each is set up by hand,
the way operators did it, then given to site.yml. The run either refuses before it changes
anything (the host snapshot of tests/host_snapshot.py is the same before and after, no task
reports a change, and the message says what is wrong and what to run instead) or adopts the
host without loss."""

import pytest

from conftest import GUEST_VARS, run_playbook, task_results
from host_snapshot import snapshot

# Docker left to make its own loop-lvm pool (the driver's default mode), first with the driver
# given as a flag in an ExecStart drop-in, as some admins do, then in daemon.json alone, as
# Docker's devicemapper page starts. Test hosts have no container networking (iptables, bridge).
DROPIN = "/etc/systemd/system/docker.service.d/override.conf"
FLAG_IN_DROPIN = (
    "systemctl stop docker.service docker.socket; rm -rf /var/lib/docker "
    "&& mkdir -p /etc/docker /etc/systemd/system/docker.service.d "
    "&& printf '%%s\\n' '{\"iptables\": false, \"bridge\": \"none\"}' > /etc/docker/daemon.json "
    "&& printf '%%s\\n' '[Service]' 'ExecStart=' "
    "'ExecStart=/usr/sbin/dockerd -H fd:// -s devicemapper' > %s "
    "&& systemctl daemon-reload && systemctl start docker.service" % DROPIN)
FLAG_TO_DAEMON_JSON = (
    "rm %s && systemctl daemon-reload && printf '%%s\\n' '{\"storage-driver\": \"devicemapper\", "
    "\"iptables\": false, \"bridge\": \"none\"}' > /etc/docker/daemon.json "
    "&& systemctl restart docker.service" % DROPIN)
IMAGES = "docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort"


def site(lab, guest, group="loop_lvm"):
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml", limit=guest.name,
                              extra_vars=dict(GUEST_VARS, **{"site_%s_hosts" % group: guest.name}))
    rows = task_results(report, guest.name)
    return rc, [r.get("msg", "") for dummy, r in rows if r.get("failed")], \
        [name for name, r in rows if r.get("changed")]


@pytest.mark.disks()
def test_the_snapshot_sees_a_one_byte_change_and_a_loop_attach(fresh_disks):
    # on the long-lived disk host: /etc/lvm/profile and /var/tmp are cleaned after the test
    g = fresh_disks
    g.sh("echo 'allocation { thin_pool_autoextend_threshold = 80 }' > /etc/lvm/profile/snap.profile"
         " && truncate -s 64M /var/tmp/lone.img")
    before = snapshot(g)
    assert snapshot(g) == before
    g.sh("sed -i 's/80/81/' /etc/lvm/profile/snap.profile")
    assert snapshot(g) != before
    g.sh("sed -i 's/81/80/' /etc/lvm/profile/snap.profile")
    assert snapshot(g) == before
    g.sh("losetup -f /var/tmp/lone.img")
    assert snapshot(g) != before
    g.sh("losetup -D")
    assert snapshot(g) == before


@pytest.mark.disks()
def test_docker_on_its_own_loop_lvm_pool_with_images_is_refused_before_anything_changes(
        lab, fresh_guest):
    g = fresh_guest
    g.sh(FLAG_IN_DROPIN)
    rc, report = run_playbook(lab.inventory_path, "molecule/shared/migration_workload.yml",
                              limit=g.name)
    assert rc == 0, [r.get("msg") for dummy, r in task_results(report, g.name) if r.get("failed")]
    pool = g.out("docker info --format '{{range .DriverStatus}}{{if eq (index . 0) "
                 "\"Pool Name\"}}{{index . 1}}{{end}}{{end}}'").strip()
    assert pool.startswith("docker-") and pool.endswith("-pool") and pool != "docker-thinpool"
    images = g.out(IMAGES)
    assert len(images.splitlines()) == 3        # two images, one of them with two tags
    held = g.out("docker info --format '{{.Images}} images and {{.Containers}} containers'")
    assert held.strip() == "2 images and 1 containers"

    # the driver as a flag: dockerd would refuse daemon.json's storage-driver next to it
    before = snapshot(g)
    rc, msgs, changed = site(lab, g)
    assert rc != 0 and changed == [], (msgs, changed)
    refusal = [m for m in msgs if "dockerd is given storage options as flags" in m]
    assert refusal and ("-s devicemapper (in %s)" % DROPIN) in refusal[0], msgs
    assert "Nothing was changed" in refusal[0] and DROPIN in refusal[0].split("Nothing")[1]
    assert snapshot(g) == before

    # the same pool named in daemon.json alone
    g.sh(FLAG_TO_DAEMON_JSON)
    assert g.out(IMAGES) == images
    before = snapshot(g)
    rc, msgs, changed = site(lab, g)
    assert rc != 0 and changed == [], (msgs, changed)
    refusal = [m for m in msgs if "Docker's own loop-lvm pool" in m]
    assert refusal, msgs
    assert ("Docker runs on devicemapper pool %s" % pool) in refusal[0]
    assert "with %s;" % held.strip() in refusal[0]
    assert "pointing it at pool docker-thinpool" in refusal[0]
    assert "Nothing was changed" in refusal[0] and "playbooks/migrate.yml" in refusal[0]
    assert "take the host out of the loop_lvm and direct_lvm groups" in refusal[0]
    assert snapshot(g) == before
    assert g.out(IMAGES) == images
    assert g.out("docker run --rm --network none app:1 cat /etc/app-release").strip() == "app-v1"

    # Docker stopped, its socket still listening: the run reads Docker's root instead of asking
    # docker info (which would start it), and refuses the same way
    g.sh("systemctl stop docker.service && systemctl is-active docker.socket")
    before = snapshot(g)
    rc, msgs, changed = site(lab, g)
    assert rc != 0 and changed == [], (msgs, changed)
    refusal = [m for m in msgs if "Docker is not running; its devicemapper metadata" in m]
    assert refusal and "belongs to Docker's own loop-lvm pool" in refusal[0], msgs
    assert snapshot(g) == before
    assert g.out("systemctl is-active docker.service || true").strip() != "active"

    # another driver's image in a stopped Docker's root
    g.sh("printf '%s\\n' '{\"storage-driver\": \"overlay2\", \"iptables\": false, "
         "\"bridge\": \"none\"}' > /etc/docker/daemon.json && systemctl start docker.service")
    g.sh("d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && tar -C $d -c . "
         "| docker import - on:overlay2 >/dev/null && systemctl stop docker.service")
    before = snapshot(g)
    rc, msgs, changed = site(lab, g)
    assert rc != 0 and changed == [], (msgs, changed)
    refusal = [m for m in msgs if "Docker is not running, and /var/lib/docker holds 1 images of "
               "the overlay2 driver" in m]
    assert refusal and "switching it to devicemapper would hide them all" in refusal[0], msgs
    assert snapshot(g) == before
