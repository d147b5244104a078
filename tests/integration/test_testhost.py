"""The test-host foundation, proven on real guests: ssh/Ansible reach, disks, crash and reboot
survival, and a `down` that leaves nothing behind."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from conftest import REPO, GuestHandle, ansible_env, assert_release
from testhost import paths
from testhost import procs
from testhost import states

TESTHOST = [sys.executable, "-m", "testhost"]


def leftovers(name):
    """What of lab ``name`` still exists on the machine."""
    found = []
    if os.path.exists("/run/netns/dmlab-" + name):
        found.append("netns dmlab-" + name)
    links = subprocess.run(["ip", "-o", "link"], stdout=subprocess.PIPE,
                           universal_newlines=True, check=True).stdout
    found += ["host link " + line.split(":")[1].strip() for line in links.splitlines()
              if "tap" in line.split(":")[1]]
    found += ["process %d" % pid for pid in procs.pids_matching("umid=th.%s." % name)]
    found += ["process %d" % pid for pid in procs.pids_matching("--lab\0%s\0" % name)]
    if os.path.exists(paths.lab_dir(name)):
        found.append("dir " + paths.lab_dir(name))
    return found


def run_testhost(*args, **kwargs):
    return subprocess.run(TESTHOST + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False, **kwargs)


def test_three_releases_boot_together_answer_ansible_and_down_removes_everything():
    name = "pt3-" + uuid.uuid4().hex[:6]
    releases = {"g1": "bullseye", "g2": "bookworm", "g3": "trixie"}
    try:
        up = run_testhost("-l", name, "up", *["-g%s:1G%%%s" % item for item in releases.items()],
                          timeout=300)
        assert up.returncode == 0, up.stderr
        ready = [line for line in up.stdout.splitlines() if "ssh-ready" in line]
        assert [line.split()[1] for line in ready] == ["g1", "g2", "g3"]
        for line in ready:
            assert float(line.split()[3]) > 0

        inventory = os.path.join(paths.lab_dir(name), "inventory.json")
        ping = subprocess.run(["ansible", "all", "-i", inventory, "-m", "ansible.builtin.ping"],
                              cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE,
                              universal_newlines=True, timeout=300, check=False)
        result = json.loads(ping.stdout)
        hosts = result["tasks"][0]["hosts"]
        assert sorted(hosts) == ["g1", "g2", "g3"]
        assert all(h.get("ping") == "pong" for h in hosts.values()), hosts
        status = run_testhost("-l", name, "status")
        assert [line.split()[:3] for line in status.stdout.splitlines()] == [
            [guest, "running", suite] for guest, suite in sorted(releases.items())]

        # Each guest is its own machine: distinct hostnames and machine ids.
        ids = set()
        for guest in ("g1", "g2", "g3"):
            out = run_testhost("-l", name, "exec", guest, "--",
                               "hostname; cat /etc/machine-id; . /etc/os-release; "
                               "echo $VERSION_CODENAME; systemctl --failed --plain --no-legend")
            assert out.returncode == 0, out.stderr
            # no unit failed at boot (udev's coldplug, which LVM waits for, among them)
            hostname, machine_id, codename = out.stdout.split()
            assert (hostname, codename) == (guest, releases[guest])
            ids.add(machine_id)
        assert len(ids) == 3

        assert leftovers(name), "the lab should exist while it is up"
    finally:
        down = run_testhost("-l", name, "down")
    assert down.returncode == 0, down.stderr
    assert leftovers(name) == []


def test_down_cleans_up_after_an_interrupted_up():
    name = "ptx-" + uuid.uuid4().hex[:6]
    proc = subprocess.Popen(TESTHOST + ["-l", name, "up", "-n", "2", "-d", "64M"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not procs.pids_matching("umid=th.%s.g2" % name):
            assert time.time() < deadline, "guests never started"
            assert proc.poll() is None, "up ended before its guests booted"
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)       # the state file may be half-written: down must cope
        proc.wait()
        assert leftovers(name)
    finally:
        down = run_testhost("-l", name, "down")
    assert down.returncode == 0, down.stderr
    assert leftovers(name) == []


@pytest.mark.disks("3G", "300M")
def test_extra_disks_have_the_configured_sizes_and_are_sparse(fresh_guest):
    sizes = fresh_guest.out("blockdev --getsize64 /dev/ubdb /dev/ubdc").split()
    assert sizes == [str(3 << 30), str(300 << 20)]
    for disk in fresh_guest.record.disks:
        assert os.stat(disk["path"]).st_blocks == 0    # nothing allocated on the machine yet


def test_disks_plugged_into_a_running_guest_and_taken_out_again(lab, disk_hosts):
    host = disk_hosts("bookworm")
    record = lab.guest(host.name)
    devices = lab.plug_disks(record, ["3G", "300M"], tag="plug")
    assert devices == ["/dev/ubdb", "/dev/ubdc"]
    assert host.out("udevadm settle && blockdev --getsize64 /dev/ubdb /dev/ubdc").split() == [
        str(3 << 30), str(300 << 20)]
    paths = [d["path"] for d in record.disks]
    assert all(os.stat(path).st_blocks == 0 for path in paths)
    host.sh("pvcreate -q /dev/ubdc && vgcreate -q plugged /dev/ubdc && vgchange -q -an plugged")
    lab.unplug_disks(record, devices)
    assert host.out("lsblk -dn -o NAME").split() == ["ubda"]
    assert record.disks == [] and not any(os.path.exists(path) for path in paths)
    assert "plugged" not in host.out("vgs --noheadings -o vg_name")


@pytest.mark.disks("1G")
def test_file_on_extra_disk_survives_power_cut_and_reboot(fresh_guest):
    fresh_guest.sh("mkfs.ext4 -q /dev/ubdb && mkdir -p /mnt/d && mount /dev/ubdb /mnt/d && "
                   "head -c 3M /dev/urandom > /mnt/d/payload && sync")
    before = fresh_guest.out("md5sum /mnt/d/payload").split()[0]
    boot_id = fresh_guest.out("cat /proc/sys/kernel/random/boot_id")

    fresh_guest.reboot(crash=True)
    assert fresh_guest.out("cat /proc/sys/kernel/random/boot_id") != boot_id
    assert fresh_guest.out("mkdir -p /mnt/d && mount /dev/ubdb /mnt/d && md5sum /mnt/d/payload"
                           ).split()[0] == before
    # After the power cut the journal shows no clean shutdown of the previous boot.
    fresh_guest.sh("echo after-crash > /mnt/d/marker && sync")

    fresh_guest.reboot()
    assert fresh_guest.out("mkdir -p /mnt/d && mount /dev/ubdb /mnt/d && md5sum /mnt/d/payload"
                           ).split()[0] == before
    assert fresh_guest.out("cat /mnt/d/marker").strip() == "after-crash"


@pytest.mark.parametrize("release", ["trixie"], indirect=True)
@pytest.mark.disks("1G")
def test_a_saved_guest_starts_new_guests_where_it_stood(lab, fresh_guest, release, tmp_path):
    fresh_guest.sh("echo root-file > /root/kept && mkfs.ext4 -q /dev/ubdb && mkdir -p /mnt/d && "
                   "mount /dev/ubdb /mnt/d && echo disk-file > /mnt/d/kept && umount /mnt/d")
    saved = str(tmp_path / "saved")
    states.save(lab, lab.guest(fresh_guest.name), saved)
    assert fresh_guest.out("cat /root/kept") == "root-file\n"       # the original runs on
    name = "from-" + uuid.uuid4().hex[:4]
    try:
        lab.up([{"name": name, "state": saved}])
        copy = GuestHandle(lab, name)
        assert_release(copy, release)
        assert copy.out("hostname; cat /root/kept; mount /dev/ubdb /mnt/d && cat /mnt/d/kept"
                        ).split() == [name, "root-file", "disk-file"]
        copy.sh("echo changed > /root/kept")
        assert fresh_guest.out("cat /root/kept") == "root-file\n"   # layers are copies
    finally:
        if name in lab.guests:
            lab.remove_guest(lab.guest(name))


@pytest.mark.parametrize("release", ["bookworm", "trixie"], indirect=True)
def test_rhel9_like_lvm_ignores_a_disk_outside_the_devices_file(lab, release):
    name = "df-" + release
    lab.up([{"name": name, "disks": ["1G", "1G"], "suite": release, "lvm_devicesfile": True}])
    g = GuestHandle(lab, name)
    try:
        assert_release(g, release)
        assert g.out("lvmconfig --typeconfig full devices/use_devicesfile").split() == [
            "use_devicesfile=1"]
        # a PV that LVM did not make through the devices file (another host's, or older than
        # the file): as on RHEL 9, pvs does not see it until it is added
        g.sh('pvcreate -q --devicesfile "" /dev/ubdb')
        assert g.out("pvs --noheadings -o pv_name").split() == []
        assert g.out('pvs --devicesfile "" --noheadings -o pv_name').split() == ["/dev/ubdb"]
        g.sh("pvcreate -q /dev/ubdc")           # pvcreate adds the disks it makes
        assert g.out("pvs --noheadings -o pv_name").split() == ["/dev/ubdc"]
        g.sh("lvm lvmdevices --adddev /dev/ubdb")   # Debian ships no lvmdevices link
        assert g.out("pvs --noheadings -o pv_name").split() == ["/dev/ubdb", "/dev/ubdc"]
    finally:
        lab.remove_guest(lab.guest(name))


def test_guest_kernel_has_thin_provisioning(fresh_disks):
    fresh_disks.sh("modprobe dm_thin_pool")
    targets = {line.split()[0] for line in fresh_disks.out("dmsetup targets").splitlines()}
    assert {"thin-pool", "thin"} <= targets


@pytest.mark.disks("2G", "1G")
def test_guest_never_sees_the_machines_own_disks(fresh_disks):
    disks = fresh_disks.out("lsblk -dn -o NAME").split()
    assert sorted(disks) == ["ubda", "ubdb", "ubdc"]
