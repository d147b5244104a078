"""docker_daemon on hosts the molecule scenarios do not cover: one without Docker (the role
installs the distribution's package only when asked, and Docker's first start already uses the
pool), and one whose running Docker holds an image on another driver (refused before any disk is
touched)."""

import uuid

import pytest

from conftest import GUEST_VARS, GuestHandle, run_playbook, task_results

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
def test_docker_installed_when_asked_and_first_started_on_the_pool(lab, one_guest):
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

    # resize.yml grows the loop pool online, with Docker running on it
    rc, report = run_playbook(lab.inventory_path, "playbooks/resize.yml", limit=g.name,
                              extra_vars=dict(GUEST_VARS, loop_lvm_data_size="2G"))
    assert rc == 0, failures(report, g.name)
    total = g.out("docker info --format '{{json .DriverStatus}}'")
    assert '["Data Space Total","2.147GB"]' in total, total

    # reactivate.yml brings back a pool that is gone (as after a boot without the unit) and Docker
    g.sh("systemctl stop docker.service docker.socket && dmsetup remove docker-thinpool && "
         "losetup -D")
    rc, report = run_playbook(lab.inventory_path, "playbooks/reactivate.yml", limit=g.name,
                              extra_vars=GUEST_VARS)
    assert rc == 0, failures(report, g.name)
    assert g.out("dmsetup status docker-thinpool").split()[2] == "thin-pool"
    assert g.out("docker info --format '{{.Driver}}'").strip() == "devicemapper"


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
