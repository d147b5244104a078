"""Hosts the collection did not set up (issue 14), on real-kernel guests: each is set up by hand,
the way operators did it, then given to site.yml. The run either refuses before it changes
anything (the host snapshot of tests/host_snapshot.py is the same before and after, no task
reports a change, and the message says what is wrong and what to run instead) or adopts the
host without loss."""

import pytest

from conftest import GUEST_VARS, run_playbook, task_results
from host_snapshot import snapshot

# Docker left to make its own loop-lvm pool (the driver's default mode): daemon.json names the
# driver and nothing else of the pool, as Docker's devicemapper page starts.
DOCKERS_OWN_POOL = (
    "systemctl stop docker.service docker.socket; rm -rf /var/lib/docker && mkdir -p /etc/docker "
    "&& printf '%s\\n' '{\"storage-driver\": \"devicemapper\", \"iptables\": false, "
    "\"bridge\": \"none\"}' > /etc/docker/daemon.json && systemctl start docker.service")
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
    g.sh(DOCKERS_OWN_POOL)
    rc, report = run_playbook(lab.inventory_path, "molecule/shared/migration_workload.yml",
                              limit=g.name)
    assert rc == 0, [r.get("msg") for dummy, r in task_results(report, g.name) if r.get("failed")]
    pool = g.out("docker info --format '{{range .DriverStatus}}{{if eq (index . 0) "
                 "\"Pool Name\"}}{{index . 1}}{{end}}{{end}}'").strip()
    assert pool.startswith("docker-") and pool.endswith("-pool") and pool != "docker-thinpool"
    images, before = g.out(IMAGES), snapshot(g)
    assert len(images.splitlines()) == 3        # two images, one of them with two tags
    held = g.out("docker info --format '{{.Images}} images and {{.Containers}} containers'")
    assert held.strip() == "2 images and 1 containers"

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
