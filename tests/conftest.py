"""Shared fixtures: real-kernel guests for integration tests, and an ad-hoc module runner.

A test that asks for a guest and cannot get one fails (the fixture raises); nothing here skips.
"""

import functools
import hashlib
import json
import os
import threading
import time
import uuid

import pytest

from testhost import cleanup
from testhost import image as image_mod
from testhost import lab as lab_mod
from testhost import states

import ansible_runs
# Tests import ansible_env and task_results from here.
from ansible_runs import REPO, ansible_env, task_results  # noqa: F401 pylint: disable=unused-import


# Variables for role tests on guests: small pools, the guest's second disk for direct-lvm, no
# container networking (test hosts have none, so dockerd must not touch iptables there), and
# site.yml's Docker play on all of a test's hosts at once: no test is about the batches, and one
# host per batch (25% of two) would walk a two-host test's Docker restarts one after the other.
# The molecule scenarios with one host run site.yml's default batches.
GUEST_VARS = {"docker_daemon_options": {"iptables": False, "bridge": "none"},
              "loop_lvm_data_size": "1G", "loop_lvm_metadata_size": "64M",
              "direct_lvm_devices": ["/dev/ubdb"], "site_docker_batch": "100%"}


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


# ---- what a test's seconds went to ----------------------------------------------------------------
# Seconds and counts per kind of step (module runs, playbooks, shell commands, boots), outermost
# only (per thread: a test may run two playbooks at once), per test: recorded in its teardown
# report and summed at the end of the run.
COSTS = {}
_NESTING = threading.local()


def costed(kind):
    def wrap(function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            _NESTING.depth = getattr(_NESTING, "depth", 0) + 1
            started = time.time()
            try:
                return function(*args, **kwargs)
            finally:
                _NESTING.depth -= 1
                if not _NESTING.depth:
                    count = COSTS.setdefault(kind, [0, 0.0])
                    count[0] += 1
                    count[1] += time.time() - started
        return timed
    return wrap


for _kind, _method in (("shell", "run"), ("boot", "up"), ("boot", "reboot"),
                       ("disks", "plug_disks"), ("disks", "unplug_disks"),
                       ("teardown", "remove_guest")):
    setattr(lab_mod.Lab, _method, costed(_kind)(getattr(lab_mod.Lab, _method)))


run_module = costed("module")(ansible_runs.run_module)
run_playbook = costed("playbook")(ansible_runs.run_playbook)


@pytest.fixture(autouse=True)
def commands_answered_by_the_stand_in_module(request, monkeypatch):
    """Unit tests answer commands from output captured on real hosts: the runners' one way of
    running a command (runners.run_argv) asks the test's stand-in module (tests/unit/fake_host.py)
    instead. (Here rather than in tests/unit/conftest.py: a second conftest module would shadow
    this one for the integration tests' ``from conftest import``.)"""
    if os.sep + "unit" + os.sep in str(request.node.fspath):
        from ansible_collections.devmapper.storage.plugins.module_utils import runners

        def answered(module, argv, data=None):
            return module.run_command(argv, data=data)
        monkeypatch.setattr(runners, "run_argv", answered)


@pytest.fixture(autouse=True)
def _step_costs(request):
    COSTS.clear()
    yield
    request.node.user_properties.append(("costs", dict((k, list(v)) for k, v in COSTS.items())))


@pytest.fixture(scope="session")
def lab():
    """One lab per test session; removed with everything in it at the end."""
    name = "pt-" + uuid.uuid4().hex[:8]
    the_lab = lab_mod.Lab(name)
    yield the_lab
    cleanup.down(name)


# The Debian releases test hosts run, with what a guest of each must report: tests that depend on
# the release run on each (``@EVERY_RELEASE``; the release is in the test id) and check that their
# guest really is that release.
RELEASES = {"bullseye": ("11.", "2.03.11"), "bookworm": ("12.", "2.03.16"),
            "trixie": ("13.", "2.03.31")}
EVERY_RELEASE = pytest.mark.parametrize("release", sorted(RELEASES), indirect=True)


@pytest.fixture
def release(request):
    """The Debian release of the test's guests: the test's parameter, or bookworm."""
    return getattr(request, "param", "bookworm")


def assert_release(handle, release):
    """The guest runs the release it was asked for (Debian version and LVM version)."""
    debian, lvm = handle.out("cat /etc/debian_version; lvm version | head -1").splitlines()[:2]
    want_debian, want_lvm = RELEASES[release]
    assert debian.startswith(want_debian), (handle.name, release, debian)
    assert lvm.split()[2].startswith(want_lvm + "("), (handle.name, release, lvm)


def disk_sizes(request):
    marker = request.node.get_closest_marker("disks")
    return list(marker.args) if marker else ["2G"]


@pytest.fixture
def fresh_guest(lab, request, release):
    """A guest of the test's own, with fresh sparse disks, removed after the test: for tests that
    reboot it or change more than disks, device-mapper, loop devices and LVM.

    Disk sizes come from ``@pytest.mark.disks("4G", "1G")`` (default: one 2G disk)."""
    name = "t" + uuid.uuid4().hex[:6]
    try:
        lab.up([{"name": name, "disks": disk_sizes(request), "suite": release}])
        handle = GuestHandle(lab, name)
        assert_release(handle, release)
        yield handle
    finally:
        if name in lab.guests:
            lab.remove_guest(lab.guests[name])


# What a test on fresh_disks may leave behind, and how it is taken away: mounts of its disks,
# device-mapper and loop devices, LVM (metadata backups, profiles, hints) and new entries in the
# directories below. The guest is kept for the next test only if all of it is gone.
SCRATCH_DIRS = "/var/lib /var/tmp /mnt /tmp /root /etc/lvm/profile /etc/lvm/backup /etc/lvm/archive"
REMEMBER = "mkdir -p /run/th %s && for d in %s; do ls -1A $d > /run/th/$(echo $d | tr / _); done" % (
    SCRATCH_DIRS,
    SCRATCH_DIRS)
CLEAN_UP = r"""set -u
findmnt -rn -o SOURCE,TARGET | awk '$1 ~ "^/dev/(mapper/|dm-|loop|ubd[b-p])" {print $2}'     | sort -r | while read -r m; do umount "$m"; done
vgchange -q -an --devicesfile "" >/dev/null 2>&1
dmsetup remove_all
losetup -D
for d in %s; do
    ls -1A $d | comm -13 /run/th/$(echo $d | tr / _) - | while read -r e; do rm -rf "$d/$e"; done
done
rm -f /run/lvm/hints
test -z "$(dmsetup ls | grep -v '^No devices found')" && test -z "$(losetup -a)"     && ! findmnt -rn -o SOURCE | grep -Eq '^/dev/(mapper/|dm-|loop|ubd[b-p])'
""" % SCRATCH_DIRS


@pytest.fixture(scope="session")
def disk_hosts(lab):
    """Long-lived guests, one per release, into which fresh_disks plugs each test's disks."""
    def get(release):
        name = "disks-" + release
        if name not in lab.guests:
            lab.up([{"name": name, "disks": [], "suite": release}])
        return GuestHandle(lab, name)
    return get


@pytest.fixture
def fresh_disks(lab, disk_hosts, request, release):
    """Fresh sparse disks (/dev/ubdb, /dev/ubdc, ... as ``@pytest.mark.disks`` sizes them) on a
    guest that lives across tests, for tests that only use their disks, device-mapper, loop
    devices, LVM and files in SCRATCH_DIRS: no boot per test. Afterwards everything is taken
    down and the disks are unplugged; a guest that does not come back clean is removed, and the
    next test boots another."""
    handle = disk_hosts(release)
    devices = lab.plug_disks(lab.guest(handle.name), disk_sizes(request),
                             tag=uuid.uuid4().hex[:6])
    handle.sh(REMEMBER + " && udevadm settle")
    assert_release(handle, release)
    try:
        yield handle
    finally:
        try:
            handle.sh(CLEAN_UP, timeout=120)
            lab.unplug_disks(lab.guest(handle.name), devices)
        except (AssertionError, lab_mod.LabError) as exc:
            print("fresh_disks: %s not clean after the test, removed: %s" % (handle.name, exc))
            lab.remove_guest(lab.guest(handle.name))


# What a converged guest depends on: the collection's code and the image it runs on. A saved
# guest (testhost.states) is made again whenever any of it or the test's own inputs change.
CODE_DIRS = ("roles", "plugins", "playbooks", "molecule/shared", "meta")


def content_key(release, *inputs):
    digest = hashlib.sha256(image_mod.recipe_hash(suite=release).encode())
    for top in CODE_DIRS:
        for directory, dirs, names in os.walk(os.path.join(REPO, top)):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, REPO).encode() + b"\0")
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    digest.update(json.dumps(inputs, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def saved_state(lab, key, spec, make):
    """The directory of a saved guest: ``make(handle)`` brings a guest booted from ``spec`` to
    the wanted state once per machine and key (the first xdist worker to ask makes it, the other
    waits)."""
    def save(directory):
        name = "mk-" + uuid.uuid4().hex[:6]
        try:
            lab.up([dict(spec, name=name)])
            make(GuestHandle(lab, name))
            states.save(lab, lab.guest(name), directory)
        finally:
            if name in lab.guests:
                lab.remove_guest(lab.guests[name])
    return states.Saved(key).get(save)


def saved_guest(lab, key, spec, make):
    """A guest of the caller's own, started from the saved one of ``saved_state``."""
    directory = saved_state(lab, key, spec, make)
    name = "s" + uuid.uuid4().hex[:6]
    lab.up([{"name": name, "state": directory, "groups": spec.get("groups", [])}])
    handle = GuestHandle(lab, name)
    # ssh answers before the services the saved guest runs (Docker) have started: a test must
    # begin where the saved guest stood, not while it is still booting
    handle.sh("systemctl is-system-running --wait >/dev/null; systemctl is-system-running")
    return handle


def pytest_terminal_summary(terminalreporter):
    """What long tests report of their coverage (the migration fault test's injection points),
    printed before pytest's closing line so that the line stays last."""
    report_dir = os.path.join(REPO, ".test-reports")
    if TIMELINE and SESSION_START[0]:
        os.makedirs(report_dir, exist_ok=True)
        with open(os.path.join(report_dir, "durations.json"), "w") as handle:
            json.dump(TIMELINE, handle, indent=1, sort_keys=True)
        wall = time.time() - SESSION_START[0]
        terminalreporter.write_sep("-", "wall time %d min %02d s; the ten slowest tests"
                                   % (wall // 60, wall % 60))
        slowest = sorted(TIMELINE.items(), key=lambda item: -item[1]["seconds"])[:10]
        for nodeid, entry in slowest:
            terminalreporter.write_line("%7.1f s  %-4s %s" % (entry["seconds"], entry["worker"] or "",
                                                              nodeid))
        totals = {}
        for entry in TIMELINE.values():
            for kind, (count, seconds) in entry.get("costs", {}).items():
                total = totals.setdefault(kind, [0, 0.0])
                total[0] += count
                total[1] += seconds
        if totals:
            terminalreporter.write_line("test seconds %d, of which: %s" % (
                sum(e["seconds"] for e in TIMELINE.values()),
                ", ".join("%s %d s (%d)" % (kind, seconds, count)
                          for kind, (count, seconds) in sorted(totals.items(),
                                                               key=lambda i: -i[1][1]))))
    if not os.path.isdir(report_dir):
        return
    for name in sorted(os.listdir(report_dir)):
        if name.endswith(".txt"):
            with open(os.path.join(report_dir, name)) as handle:
                terminalreporter.write_sep("-", "report: %s" % name)
                terminalreporter.write(handle.read())


# ---- longest first ------------------------------------------------------------------------------
# scripts/test runs xdist's `load` scheduler with one test sent at a time; a worker always holds
# two, the one it runs and the next. Long tests go first, longest first, each followed by a quick
# one, so that the test a worker holds next is a quick one and every long test starts on the
# first worker that comes free. The seconds come from earlier runs (tests/durations.json); a test
# not in it counts as NEW_TEST_SECONDS.
DURATIONS = os.path.join(REPO, "tests", "durations.json")
NEW_TEST_SECONDS = 120.0
QUICK_SECONDS = 5.0


def expected_seconds(item, known):
    if item.nodeid in known:
        return known[item.nodeid]
    base = item.nodeid.split("[")[0]
    same_function = [v for k, v in known.items() if k.split("[")[0] == base]
    if same_function:
        return max(same_function)
    return NEW_TEST_SECONDS if "/integration/" in item.nodeid or "/gates/" in item.nodeid else 0.0


def pytest_collection_modifyitems(items):
    known = {}
    if os.path.exists(DURATIONS):
        with open(DURATIONS) as handle:
            known = json.load(handle)
    seconds = dict((item.nodeid, expected_seconds(item, known)) for item in items)
    ranked = sorted(items, key=lambda item: -seconds[item.nodeid])
    long_ones = [i for i in ranked if seconds[i.nodeid] > QUICK_SECONDS]
    quick = [i for i in ranked if seconds[i.nodeid] <= QUICK_SECONDS][::-1]
    long_ones = after_the_first_of_their_saved_guest(long_ones)
    ordered = []
    for item in long_ones:
        ordered.append(item)
        if quick:
            ordered.append(quick.pop(0))
    items[:] = ordered + quick


# Tests marked saved_guest(key) start from one saved guest that the first of them makes (a
# converge of minutes; saved_guest() below). Two of them side by side would leave the second
# waiting for the first one's converge with its worker idle: each later one is put behind the
# next long test, which the other worker runs meanwhile.
SAVED_GUEST_DEFER = 2


def after_the_first_of_their_saved_guest(ranked):
    ordered = list(ranked)
    seen = set()
    for item in ranked:
        marker = item.get_closest_marker("saved_guest")
        if marker is None:
            continue
        if marker.args[0] in seen:
            position = ordered.index(item)
            ordered.insert(min(position + SAVED_GUEST_DEFER, len(ordered)),
                           ordered.pop(position))
        seen.add(marker.args[0])
    return ordered


# ---- where the suite's time goes ---------------------------------------------------------------
# Each test's setup + call + teardown seconds, its start and end and the xdist worker that ran it,
# recorded on the controller; printed as the wall time and the ten slowest at the end of every run
# and written to .test-reports/durations.json (tests/durations.json orders the next runs from it).
TIMELINE = {}
SESSION_START = [None]


def pytest_sessionstart(session):
    SESSION_START[0] = time.time()


def pytest_runtest_logreport(report):
    entry = TIMELINE.setdefault(report.nodeid, {"seconds": 0.0, "start": report.start,
                                                "stop": report.stop, "worker": None,
                                                "outcome": "passed"})
    entry["seconds"] += report.duration
    entry["start"] = min(entry["start"], report.start)
    entry["stop"] = max(entry["stop"], report.stop)
    node = getattr(report, "node", None)
    if node is not None:
        entry["worker"] = node.gateway.id
    if report.outcome != "passed":
        entry["outcome"] = report.outcome
    costs = dict(report.user_properties).get("costs")
    if costs:
        entry["costs"] = costs
