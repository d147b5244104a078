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

from conftest import REPO, ansible_env
from testhost import lab as lab_mod
from testhost import paths

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
    found += ["process %d" % pid for pid in lab_mod._pids_matching("umid=th.%s." % name)]
    found += ["process %d" % pid for pid in lab_mod._pids_matching("--lab\0%s\0" % name)]
    if os.path.exists(paths.lab_dir(name)):
        found.append("dir " + paths.lab_dir(name))
    return found


def run_testhost(*args, **kwargs):
    return subprocess.run(TESTHOST + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False, **kwargs)


def test_three_guests_boot_together_answer_ansible_and_down_removes_everything():
    name = "pt3-" + uuid.uuid4().hex[:6]
    try:
        up = run_testhost("-l", name, "up", "-n", "3", "-d", "1G", timeout=300)
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

        # Each guest is its own machine: distinct hostnames and machine ids.
        ids = set()
        for guest in ("g1", "g2", "g3"):
            out = run_testhost("-l", name, "exec", guest, "--", "hostname; cat /etc/machine-id")
            assert out.returncode == 0, out.stderr
            hostname, machine_id = out.stdout.split()
            assert hostname == guest
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
        while not lab_mod._pids_matching("umid=th.%s.g2" % name):
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


def test_guest_kernel_has_thin_provisioning(guest):
    guest.sh("modprobe dm_thin_pool")
    targets = {line.split()[0] for line in guest.out("dmsetup targets").splitlines()}
    assert {"thin-pool", "thin"} <= targets


def test_guest_never_sees_the_machines_own_disks(guest):
    disks = guest.out("lsblk -dn -o NAME").split()
    assert sorted(disks) == ["ubda", "ubdb", "ubdc"]
