"""Verifier of the smoke scenario: the guest kernel has dm-thin, dmeventd listens, each guest runs
the Debian release its platform names, and each extra disk has the size molecule.yml gives it."""

import os

import yaml

SIZES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def configured_disks(hostname):
    with open(os.environ["MOLECULE_FILE"]) as handle:
        platforms = yaml.safe_load(handle)["platforms"]
    disks = next(p for p in platforms if p["name"] == hostname).get("disks", [])
    return [int(d[:-1]) * SIZES[d[-1]] for d in disks]


def test_thin_targets_are_listed(host):
    targets = {line.split()[0] for line in host.check_output("dmsetup targets").splitlines()}
    assert {"thin-pool", "thin"} <= targets


def test_dmeventd_socket_is_active(host):
    assert host.service("dm-event.socket").is_running


def test_each_guest_runs_its_platforms_release(host):
    with open(os.environ["MOLECULE_FILE"]) as handle:
        platforms = yaml.safe_load(handle)["platforms"]
    hostname = host.check_output("hostname")
    wanted = next(p for p in platforms if p["name"] == hostname).get("suite", "bookworm")
    assert host.check_output(". /etc/os-release; echo $VERSION_CODENAME") == wanted


def test_extra_disks_have_configured_sizes(host):
    hostname = host.check_output("hostname")
    expected = configured_disks(hostname)
    assert expected, "molecule.yml gives %s no disks" % hostname
    for letter, size in zip("bcdefgh", expected):
        assert int(host.check_output("blockdev --getsize64 /dev/ubd%s", letter)) == size
