"""Shared fixtures: real-kernel guests for integration tests, and an ad-hoc module runner.

A test that asks for a guest and cannot get one fails (the fixture raises); nothing here skips.
"""

import json
import os
import subprocess
import uuid

import pytest

from testhost import lab as lab_mod

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Variables for role tests on guests: small pools, the guest's second disk for direct-lvm, and
# no container networking (test hosts have none, so dockerd must not touch iptables there).
GUEST_VARS = {"docker_daemon_options": {"iptables": False, "bridge": "none"},
              "loop_lvm_data_size": "1G", "loop_lvm_metadata_size": "64M",
              "direct_lvm_devices": ["/dev/ubdb"]}


class GuestHandle(object):
    """A running guest as tests see it: run shell commands, run modules, reboot, crash."""

    def __init__(self, lab, name):
        self.lab = lab
        self.name = name

    @property
    def record(self):
        return self.lab.guest(self.name)

    @property
    def disks(self):
        return [d["device"] for d in self.record.disks]

    def sh(self, command, check=True, timeout=300):
        return self.lab.run(self.record, command, check=check, timeout=timeout)

    def out(self, command, timeout=300):
        return self.sh(command, timeout=timeout).stdout

    def reboot(self, crash=False):
        return self.lab.reboot(self.record, crash=crash)

    def module(self, name, args=None, check=False, diff=False):
        return run_module(self.lab.inventory_path, self.name, name, args or {}, check=check,
                          diff=diff)


def ansible_env():
    env = dict(os.environ)
    env.update({"ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
                "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO, "tests", "callback_plugins"),
                "ANSIBLE_STDOUT_CALLBACK": "result_json",
                "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
                "ANSIBLE_NOCOLOR": "1"})
    return env


def run_module(inventory, host, module, args, check=False, diff=False):
    """Run one module ad hoc on one host; returns the module's result dict."""
    argv = ["ansible", host, "-i", inventory, "-m", module, "-a", json.dumps(args)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    proc = subprocess.run(argv, cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=600, check=False)
    try:
        report = json.loads(proc.stdout)
        return report["tasks"][0]["hosts"][host]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("ansible %s on %s gave no JSON result (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                             % (module, host, proc.returncode, proc.stdout, proc.stderr))


@pytest.fixture(scope="session")
def lab():
    """One lab per test session; removed with everything in it at the end."""
    name = "pt-" + uuid.uuid4().hex[:8]
    the_lab = lab_mod.Lab(name)
    yield the_lab
    lab_mod.down(name)


@pytest.fixture(scope="session")
def guest(lab):
    """A guest shared by the whole session (disks /dev/ubdb 2G, /dev/ubdc 1G): tests that use it
    must leave its disks as they found them."""
    lab.up([{"name": "shared", "disks": ["2G", "1G"]}])
    return GuestHandle(lab, "shared")


@pytest.fixture
def fresh_guest(lab, request):
    """A guest of the test's own, with fresh sparse disks, removed after the test.

    Disk sizes come from ``@pytest.mark.disks("4G", "1G")`` (default: one 2G disk)."""
    marker = request.node.get_closest_marker("disks")
    disks = list(marker.args) if marker else ["2G"]
    name = "t" + uuid.uuid4().hex[:6]
    try:
        lab.up([{"name": name, "disks": disks}])
        yield GuestHandle(lab, name)
    finally:
        if name in lab.guests:
            lab.remove_guest(lab.guests[name])


def run_playbook(inventory, playbook, limit=None, check=False, diff=False, extra_vars=None):
    """Run a playbook; returns (rc, report) with report["tasks"] as tests/callback_plugins
    records them (each task's per-host results)."""
    argv = ["ansible-playbook", "-i", inventory, os.path.join(REPO, playbook)]
    if limit:
        argv += ["--limit", limit]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    proc = subprocess.run(argv, cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=1800,
                          check=False)
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("%s gave no JSON report (rc=%d)\nstdout:\n%s\nstderr:\n%s"
                             % (playbook, proc.returncode, proc.stdout, proc.stderr))
    return proc.returncode, report


def task_results(report, host):
    """(task name, result) of every task that ran or was skipped on ``host``."""
    return [(t["name"], t["hosts"][host]) for t in report["tasks"] if host in t["hosts"]]


def pytest_terminal_summary(terminalreporter):
    """What long tests report of their coverage (the migration fault test's injection points),
    printed before pytest's closing line so that the line stays last."""
    report_dir = os.path.join(REPO, ".test-reports")
    if not os.path.isdir(report_dir):
        return
    for name in sorted(os.listdir(report_dir)):
        if name.endswith(".txt"):
            with open(os.path.join(report_dir, name)) as handle:
                terminalreporter.write_sep("-", "report: %s" % name)
                terminalreporter.write(handle.read())
