"""loop_lvm and direct_lvm on the Debian releases other than bookworm (whose converge and
idempotence the molecule scenarios loop_lvm and direct_lvm show): bullseye (Docker 20.10.5, lvm2
2.03.11, util-linux 2.36, Python 3.9) with Docker on the pools, and trixie (Docker 26.1 without
devicemapper, lvm2 2.03.31, Python 3.13) with the pools alone; then a full site.yml on trixie, the
Docker-26 test: a refusal before anything changes."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import GUEST_VARS, GuestHandle, assert_release, run_playbook, task_results
from host_snapshot import snapshot

ROLES = "tests/integration/playbooks/storage_roles.yml"
# (trixie's image has dockerd without the docker client)
DOCKER_STATE = ("cat /etc/docker/daemon.json 2>&1; ls -la /etc/docker 2>&1; "
                "systemctl is-active docker 2>&1; dockerd --version; true")


@pytest.fixture
def release_pair(lab, release):
    """A loop_lvm guest and a direct_lvm guest (one 2G disk) of the release."""
    suffix = uuid.uuid4().hex[:4]
    names = {"loop": "%sl%s" % (release[:2], suffix), "lvm": "%sd%s" % (release[:2], suffix)}
    try:
        lab.up([{"name": names["loop"], "disks": [], "groups": ["loop_lvm"], "suite": release},
                {"name": names["lvm"], "disks": ["2G"], "groups": ["direct_lvm"],
                 "suite": release}])
        pair = dict((k, GuestHandle(lab, v)) for k, v in names.items())
        for handle in pair.values():
            assert_release(handle, release)
        yield pair
    finally:
        for name in names.values():
            if name in lab.guests:
                lab.remove_guest(lab.guests[name])


def failures(report, pair):
    """Per host: (task, message) of each failed task."""
    return dict((g.name, [(name, r.get("msg")) for name, r in task_results(report, g.name)
                          if r.get("failed")]) for g in pair.values())


def changes(report, pair):
    """Per host: the tasks that changed something."""
    return dict((g.name, [name for name, r in task_results(report, g.name) if r.get("changed")])
                for g in pair.values())


def side_by_side(lab, pair, extra):
    """storage_roles.yml on each host of the pair at once (one ansible-playbook per host: its two
    plays, one per group, would otherwise run the hosts one after the other); one report."""
    with ThreadPoolExecutor(len(pair)) as pool:
        runs = [pool.submit(run_playbook, lab.inventory_path, ROLES, limit=g.name,
                            extra_vars=extra) for g in pair.values()]
        done = [run.result() for run in runs]
    return (max(rc for rc, dummy in done),
            {"tasks": [task for dummy, report in done for task in report["tasks"]]})


def converge_twice(lab, pair, extra):
    """A first run (fast path on, as users run it), then a full run that must change nothing."""
    rc, report = side_by_side(lab, pair, extra)
    assert rc == 0, failures(report, pair)
    rc, again = side_by_side(lab, pair, dict(extra, devmapper_storage_fast_path=False))
    assert rc == 0, failures(again, pair)
    assert changes(again, pair) == dict((g.name, []) for g in pair.values())


def assert_pools(pair):
    loop, lvm = pair["loop"], pair["lvm"]
    assert loop.out("dmsetup table docker-thinpool").split()[2] == "thin-pool"
    assert lvm.out("lvs --noheadings -o lv_attr,seg_monitor docker/thinpool").split()[0][0] == "t"
    assert lvm.out("lvs --noheadings -o seg_monitor docker/thinpool").split() == ["monitored"]


@pytest.mark.parametrize("release", ["bullseye"], indirect=True)
def test_bullseye_converges_with_docker_on_the_pools_and_stays_converged(lab, release_pair):
    converge_twice(lab, release_pair, GUEST_VARS)
    assert_pools(release_pair)
    for handle in release_pair.values():
        info = json.loads(handle.out("docker info --format '{{json .}}'"))
        status = dict(info["DriverStatus"])
        assert info["Driver"] == "devicemapper", info["Driver"]
        assert status["Pool Name"] == "docker-thinpool", status


@pytest.mark.parametrize("release", ["trixie"], indirect=True)
def test_trixie_pools_converge_and_site_yml_refuses_a_docker_without_devicemapper(
        lab, release_pair):
    # The Docker-26 test, on hosts as they come: site.yml would point dockerd at a driver it
    # does not have (before issue 14 the restart failed and Docker stayed down). Both hosts
    # refuse in the storage roles' preflight (docker_daemon's), before a pool or daemon.json is
    # made: the host snapshot is the same after the run, and the message says what to do instead.
    loop, lvm = release_pair["loop"], release_pair["lvm"]
    before = dict((g.name, (snapshot(g), g.out(DOCKER_STATE))) for g in release_pair.values())
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml",
                              limit="%s,%s" % (loop.name, lvm.name), extra_vars=GUEST_VARS)
    assert rc != 0
    failed = failures(report, release_pair)
    for guest in (loop, lvm):
        assert [name for name, _msg in failed[guest.name]] == [
            "devmapper.storage.docker_daemon : Refuse to hide Docker's images and containers, "
            "or to leave Docker unable to start"], failed
        msg = failed[guest.name][0][1]
        assert "Docker 26." in msg and "has no devicemapper storage driver" in msg, msg
        assert "storage_migration_target=overlay2" in msg and "Nothing was changed" in msg, msg
    assert changes(report, release_pair) == dict((g.name, []) for g in release_pair.values())
    assert dict((g.name, (snapshot(g), g.out(DOCKER_STATE)))
                for g in release_pair.values()) == before

    # the pools alone converge, and stay converged
    no_docker = dict(GUEST_VARS, loop_lvm_configure_docker=False,
                     direct_lvm_configure_docker=False)
    converge_twice(lab, release_pair, no_docker)
    assert_pools(release_pair)
