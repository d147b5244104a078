"""Hosts the collection did not set up (issue 14), on real-kernel guests: each is set up by hand,
the way operators did it, then given to site.yml. The run either refuses before it changes
anything (the host snapshot of tests/host_snapshot.py is the same before and after, no task
reports a change, and the message says what is wrong and what to run instead) or adopts the
host without loss."""

import json

import pytest

from conftest import GUEST_VARS, run_playbook, task_results
from host_snapshot import snapshot

# Docker left to make its own loop-lvm pool (the driver's default mode), first with the driver
# given as a flag in an ExecStart drop-in, as some admins do, then in daemon.json alone, as
# Docker's devicemapper page starts. Test hosts have no container networking (iptables, bridge).
DROPIN_DIR = "/etc/systemd/system/docker.service.d"
DROPIN = DROPIN_DIR + "/override.conf"
FLAG_IN_DROPIN = (
    "systemctl stop docker.service docker.socket; rm -rf /var/lib/docker "
    "&& mkdir -p /etc/docker /etc/systemd/system/docker.service.d "
    "&& printf '%%s\\n' '{\"iptables\": false, \"bridge\": \"none\"}' > /etc/docker/daemon.json "
    "&& printf '%%s\\n' '[Service]' 'ExecStart=' "
    "'ExecStart=/usr/sbin/dockerd -H fd:// -s devicemapper' > %s "
    "&& systemctl daemon-reload && systemctl start docker.service" % DROPIN)
# Debian's docker.service runs dockerd with $DOCKER_OPTS from /etc/default/docker
DEFAULTS = "/etc/default/docker"
DROPIN_TO_DEFAULTS = (
    "rm %s && printf '%%s\\n' 'DOCKER_OPTS=\"--storage-driver=devicemapper\"' >> %s "
    "&& systemctl daemon-reload && systemctl restart docker.service" % (DROPIN, DEFAULTS))
# RHEL's docker.service takes DOCKER_STORAGE_OPTIONS from /etc/sysconfig/docker-storage, which
# container-storage-setup writes; Debian's reads no such file, so a drop-in says so here
SYSCONFIG = "/etc/sysconfig/docker-storage"
DEFAULTS_TO_SYSCONFIG = (
    "sed -i '/^DOCKER_OPTS=\"--storage-driver=devicemapper\"$/d' %s && mkdir -p /etc/sysconfig "
    "&& printf '%%s\\n' 'DOCKER_STORAGE_OPTIONS=\"--storage-driver devicemapper\"' > %s "
    "&& printf '%%s\\n' '[Service]' 'EnvironmentFile=-%s' 'ExecStart=' "
    "'ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_STORAGE_OPTIONS' > %s "
    "&& systemctl daemon-reload && systemctl restart docker.service"
    % (DEFAULTS, SYSCONFIG, SYSCONFIG, DROPIN))
FLAG_TO_DAEMON_JSON = (
    "rm %s %s && systemctl daemon-reload "
    "&& printf '%%s\\n' '{\"storage-driver\": \"devicemapper\", "
    "\"iptables\": false, \"bridge\": \"none\"}' > /etc/docker/daemon.json "
    "&& systemctl restart docker.service" % (DROPIN, SYSCONFIG))
IMAGES = "docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort"


def with_workload(lab, guest):
    """The migration tests' workload (two images, a volume, a stopped container) made in the
    guest's running Docker; returns the pool Docker runs on."""
    rc, report = run_playbook(lab.inventory_path, "molecule/shared/migration_workload.yml",
                              limit=guest.name)
    assert rc == 0, [r.get("msg") for dummy, r in task_results(report, guest.name)
                     if r.get("failed")]
    return guest.out("docker info --format '{{range .DriverStatus}}{{if eq (index . 0) "
                     "\"Pool Name\"}}{{index . 1}}{{end}}{{end}}'").strip()


def site(lab, guest, group="loop_lvm", playbook="playbooks/site.yml", **extra):
    extra["site_%s_hosts" % group] = guest.name
    rc, report = run_playbook(lab.inventory_path, playbook, limit=guest.name,
                              extra_vars=dict(GUEST_VARS, **extra))
    rows = task_results(report, guest.name)
    return rc, [r.get("msg", "") for dummy, r in rows if r.get("failed")], \
        [name for name, r in rows if r.get("changed")]


def site_refuses(lab, guest, phrase, group="loop_lvm", playbook="playbooks/site.yml", **extra):
    """site.yml (or ``playbook``) on the guest fails with a message holding ``phrase``, no task
    changed anything and the host snapshot is as before; returns that message."""
    before = snapshot(guest)
    rc, msgs, changed = site(lab, guest, group, playbook, **extra)
    assert rc != 0 and changed == [], (msgs, changed)
    refusal = [m for m in msgs if phrase in m]
    assert refusal, msgs
    assert snapshot(guest) == before
    return refusal[0]


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
    pool = with_workload(lab, g)
    assert pool.startswith("docker-") and pool.endswith("-pool") and pool != "docker-thinpool"
    images = g.out(IMAGES)
    assert len(images.splitlines()) == 3        # two images, one of them with two tags
    held = g.out("docker info --format '{{.Images}} images and {{.Containers}} containers'")
    assert held.strip() == "2 images and 1 containers"

    # the driver as a flag: dockerd would refuse daemon.json's storage-driver next to it
    refusal = site_refuses(lab, g, "dockerd is given storage options as flags")
    assert ("-s devicemapper (in %s)" % DROPIN) in refusal
    assert "Nothing was changed" in refusal and DROPIN in refusal.split("Nothing")[1]

    # the driver in DOCKER_OPTS of /etc/default/docker, which Debian's unit expands
    g.sh(DROPIN_TO_DEFAULTS)
    assert g.out(IMAGES) == images
    refusal = site_refuses(lab, g, "dockerd is given storage options as flags")
    assert ("--storage-driver=devicemapper (DOCKER_OPTS in %s)" % DEFAULTS) in refusal
    assert DEFAULTS in refusal.split("Nothing")[1]

    # the driver in DOCKER_STORAGE_OPTIONS of /etc/sysconfig/docker-storage (container-storage-
    # setup's file on RHEL), expanded by a drop-in's EnvironmentFile=
    g.sh(DEFAULTS_TO_SYSCONFIG)
    assert g.out(IMAGES) == images
    refusal = site_refuses(lab, g, "dockerd is given storage options as flags")
    assert ("--storage-driver devicemapper (DOCKER_STORAGE_OPTIONS in %s)" % SYSCONFIG) in refusal
    assert SYSCONFIG in refusal.split("Nothing")[1]

    # the same pool named in daemon.json alone
    g.sh(FLAG_TO_DAEMON_JSON)
    assert g.out(IMAGES) == images
    refusal = site_refuses(lab, g, "Docker's own loop-lvm pool")
    assert ("Docker runs on devicemapper pool %s" % pool) in refusal
    assert "with %s;" % held.strip() in refusal
    assert "pointing it at pool docker-thinpool" in refusal
    assert "Nothing was changed" in refusal and "playbooks/migrate.yml" in refusal
    assert "take the host out of the loop_lvm and direct_lvm groups" in refusal
    assert g.out(IMAGES) == images
    # resize.yml and recover-full.yml grow the pool site.yml made, and make none
    for playbook in ("playbooks/resize.yml", "playbooks/recover-full.yml"):
        refusal = site_refuses(lab, g, "no pool of this role is here", playbook=playbook,
                               loop_lvm_data_size="2G")
        assert "playbooks/migrate.yml" in refusal and "Nothing was changed" in refusal
    assert g.out(IMAGES) == images
    assert g.out("docker run --rm --network none app:1 cat /etc/app-release").strip() == "app-v1"

    # Docker stopped, its socket still listening: the run reads Docker's root instead of asking
    # docker info (which would start it), and refuses the same way
    g.sh("systemctl stop docker.service && systemctl is-active docker.socket")
    refusal = site_refuses(lab, g, "Docker is not running; its devicemapper metadata")
    assert "belongs to Docker's own loop-lvm pool" in refusal
    assert g.out("systemctl is-active docker.service || true").strip() != "active"

    # Docker failed (here its start is made to fail): read from its root the same way
    g.sh("mkdir -p %s && printf '%%s\\n' '[Service]' 'ExecStartPre=/bin/false' 'Restart=no' "
         "> %s/fail.conf "
         "&& systemctl daemon-reload && ! systemctl start docker.service"
         % (DROPIN_DIR, DROPIN_DIR))
    assert g.out("systemctl is-failed docker.service || true").strip() == "failed"
    refusal = site_refuses(lab, g, "Docker is not running; its devicemapper metadata")
    assert "belongs to Docker's own loop-lvm pool" in refusal
    g.sh("rm %s/fail.conf && systemctl daemon-reload && systemctl reset-failed docker.service"
         % DROPIN_DIR)

    # another driver's image in a stopped Docker's root
    g.sh("printf '%s\\n' '{\"storage-driver\": \"overlay2\", \"iptables\": false, "
         "\"bridge\": \"none\"}' > /etc/docker/daemon.json && systemctl start docker.service")
    g.sh("d=$(mktemp -d) && mkdir $d/bin && cp /bin/busybox $d/bin/ && tar -C $d -c . "
         "| docker import - on:overlay2 >/dev/null && systemctl stop docker.service")
    refusal = site_refuses(lab, g, "Docker is not running, and /var/lib/docker holds 1 images "
                           "of the overlay2 driver")
    assert "switching it to devicemapper would hide them all" in refusal


# Docker's devicemapper page, direct-lvm by hand: VG docker, LV thinpool with 95 % data and 1 %
# metadata, 512K chunks and zeroing off, the autoextend profile and monitoring, then daemon.json
# pointing Docker at the pool (the page's own storage-opts).
RUNBOOK = r"""set -e
systemctl stop docker.service docker.socket; rm -rf /var/lib/docker
udevadm settle
pvcreate -q /dev/ubdb && vgcreate -q docker /dev/ubdb
lvcreate -q --wipesignatures y -n thinpool docker -l 95%VG
lvcreate -q --wipesignatures y -n thinpoolmeta docker -l 1%VG
lvconvert -q -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta
printf '%s\n' 'activation {' '  thin_pool_autoextend_threshold=80' \
  '  thin_pool_autoextend_percent=20' '}' > /etc/lvm/profile/docker-thinpool.profile
lvchange -q --metadataprofile docker-thinpool docker/thinpool
lvchange -q --monitor y docker/thinpool
mkdir -p /etc/docker
cat > /etc/docker/daemon.json <<'JSON'
{
    "storage-driver": "devicemapper",
    "storage-opts": [
    "dm.thinpooldev=/dev/mapper/docker-thinpool",
    "dm.use_deferred_removal=true",
    "dm.use_deferred_deletion=true"
    ],
    "iptables": false,
    "bridge": "none"
}
JSON
systemctl start docker.service
"""


@pytest.mark.disks("2G", "1G")
def test_a_direct_lvm_host_built_by_hand_from_the_runbook_is_adopted_with_its_images(
        lab, fresh_guest):
    g = fresh_guest
    g.sh(RUNBOOK)
    # the admin's pool is not the one the role is asked for (direct_lvm_pool): refused, even with
    # Docker empty (dockerd would not start on the new pool: its base device is in the old one),
    # then with images
    empty = site_refuses(lab, g, "pointing it at pool docker-dockerpool", group="direct_lvm",
                         direct_lvm_pool="dockerpool")
    assert "Docker runs on devicemapper pool docker-thinpool with 0 images and 0 containers" \
        in empty and "playbooks/migrate.yml" in empty, empty
    assert with_workload(lab, g) == "docker-thinpool"
    held = site_refuses(lab, g, "pointing it at pool docker-dockerpool", group="direct_lvm",
                        direct_lvm_pool="dockerpool")
    assert "with 2 images and 1 containers" in held and "Nothing was changed" in held, held
    images = g.out(IMAGES)
    lvs = "lvs --noheadings -o lv_name,lv_size,lv_metadata_size,chunk_size docker/thinpool"
    made = g.out(lvs)

    # first run: the pool is the runbook's, kept as it is (no resize, no new LV); what the
    # collection adds (the boot unit, daemon.json merged) may change
    rc, msgs, changed = site(lab, g, group="direct_lvm")
    assert rc == 0, msgs
    assert g.out(lvs) == made
    assert g.out(IMAGES) == images
    assert g.out("docker run --rm --network none app:1 cat /etc/app-release").strip() == "app-v1"
    settings = json.loads(g.out("cat /etc/docker/daemon.json"))
    assert settings["iptables"] is False and settings["bridge"] == "none"   # merged, kept
    assert "dm.thinpooldev=/dev/mapper/docker-thinpool" in settings["storage-opts"]

    # second run: adopted, nothing to change
    rc, msgs, changed = site(lab, g, group="direct_lvm")
    assert rc == 0 and changed == [], (msgs, changed)
    assert g.out(IMAGES) == images and g.out(lvs) == made

    # Docker's thin devices are no LVs: the info module does not call the pool empty, and
    # removing the pool without force is refused, the host as it was (before issue 14 lvremove
    # ran, changed=true)
    info = g.module("devmapper.storage.dm_thinpool_info", {"vg": "docker", "name": "thinpool"})
    assert info["pool"]["thin_device_count"] is None, info["pool"]
    assert "no thin volumes LVM knows" in info["pool"]["thin_device_count_why"]
    g.sh("systemctl stop docker.service")
    before = snapshot(g)
    refused = g.module("devmapper.storage.dm_thinpool",
                       {"vg": "docker", "name": "thinpool", "state": "absent"}, check=False)
    assert refused.get("failed") and refused["changed"] is False, refused
    assert "though it holds no thin volumes LVM knows" in refused["msg"], refused["msg"]
    assert snapshot(g) == before
    g.sh("systemctl start docker.service")
    assert g.out(IMAGES) == images

    # the adopted pool filled to 100 % under a running container (dmeventd's autoextend finds no
    # room in the VG), then recover-full.yml grows it onto a new disk (issue 18)
    back_from_a_full_lvm_pool(lab, g, images)


# A container fills the pool (queued writes fail after 5 s instead of 60, to spare the wait).
FILL_LVM = r"""set -e
echo 5 > /sys/module/dm_thin_pool/parameters/no_space_timeout
docker run -d --name filler --network none app:1 busybox sleep 100000 >/dev/null
docker exec filler sh -c 'echo before > /before && busybox sync'
docker exec -d filler busybox dd if=/dev/zero of=/fill bs=1M count=2500
for i in $(busybox seq 120); do
    case "$(dmsetup status docker-thinpool)" in
        *out_of_data_space*error_if_no_space*) exit 0;;
    esac
    sleep 1
done
exit 1
"""


def back_from_a_full_lvm_pool(lab, g, images):
    lab.run(g.record, "bash -s", check=True, input_text=FILL_LVM, timeout=300)
    full = g.out("dmsetup status docker-thinpool").split()
    used, total = full[5].split("/")
    assert full[7] == "out_of_data_space" and used == total, full
    rc, msgs, changed = site(lab, g, group="direct_lvm", playbook="playbooks/recover-full.yml",
                             direct_lvm_devices=["/dev/ubdb", "/dev/ubdc"])
    assert rc == 0, msgs
    status = g.out("dmsetup status docker-thinpool").split()
    assert status[7] == "rw" and int(status[5].split("/")[1]) > int(total), status
    assert "/dev/ubdc" in g.out("pvs --noheadings -o pv_name,vg_name")
    assert g.out("docker exec filler sh -c 'cat /before && echo after > /after && busybox sync "
                 "&& cat /after'").split() == ["before", "after"]
    assert g.out(IMAGES) == images
    assert g.out("docker run --rm --network none app:1 cat /etc/app-release").strip() == "app-v1"
