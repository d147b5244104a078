"""docker_container_filesystems' probe and plan (container_filesystems.py) on a capture
(tests/unit/fixtures/container_filesystems.json, scripts/lib/capture_container_filesystems.py):
Docker 20.10 on a loop-lvm devicemapper pool, four running containers: one as it runs, one whose
XFS was shut down, one whose filesystem was remounted read-only, one started with --read-only."""

import os

import pytest

import captured
from fake_host import CapturedModule
from ansible_collections.devmapper.storage.plugins.module_utils import container_filesystems as cf
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import DockerCli
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

CAPTURE = captured.load("container_filesystems")
INSPECT = dict((c["Name"].lstrip("/"), c) for c in CAPTURE["inspect"])


def row(name):
    probe = CAPTURE["probes"][name]
    return cf.container_row(INSPECT[name], cf.root_mount(probe["mountinfo"]),
                            probe["listing_error"])


def test_the_root_mount_is_the_containers_thin_device():
    for name in INSPECT:
        mount = cf.root_mount(CAPTURE["probes"][name]["mountinfo"])
        device = INSPECT[name]["GraphDriver"]["Data"]["DeviceName"]
        assert mount["source"] == "/dev/mapper/" + device and mount["fs_type"] == "xfs"
    assert cf.root_mount("") is None


def test_a_shut_down_or_read_only_filesystem_does_not_answer_a_read_only_container_does():
    rows = dict((name, row(name)) for name in INSPECT)
    assert rows["cf-fine"]["answers"] and rows["cf-fine"]["why"] == ""
    assert rows["cf-readonly"]["answers"], rows["cf-readonly"]     # its mount, not its superblock
    assert not rows["cf-down"]["answers"]
    assert rows["cf-down"]["why"] == "listing its root filesystem failed: Input/output error"
    assert not rows["cf-ro"]["answers"] and "turned read-only" in rows["cf-ro"]["why"]
    assert rows["cf-down"]["device"] == INSPECT["cf-down"]["GraphDriver"]["Data"]["DeviceName"]
    assert rows["cf-down"]["pid"] == INSPECT["cf-down"]["State"]["Pid"]


def test_the_probe_reads_the_process_mount_table_and_lists_its_root(tmp_path):
    pid = INSPECT["cf-fine"]["State"]["Pid"]
    (tmp_path / str(pid) / "root").mkdir(parents=True)
    (tmp_path / str(pid) / "mountinfo").write_text(CAPTURE["probes"]["cf-fine"]["mountinfo"])
    mount, error = cf.probe(pid, str(tmp_path))
    assert error == "" and mount["source"].endswith(INSPECT["cf-fine"]["GraphDriver"]["Data"][
        "DeviceName"])
    os.rmdir(str(tmp_path / str(pid) / "root"))
    assert cf.probe(pid, str(tmp_path))[1] == "No such file or directory"
    assert cf.probe(pid + 1, str(tmp_path))[0] is None


def test_only_containers_that_do_not_answer_are_stopped_unmounted_and_started(tmp_path):
    rows = [row(name) for name in sorted(INSPECT)]
    docker = DockerCli(CapturedModule())
    assert cf.plan_restarts(rows, docker, False, 10, "unused") == []
    plan = cf.plan_restarts(rows, docker, True, 7, "unused")
    down, ro = INSPECT["cf-down"]["Id"], INSPECT["cf-ro"]["Id"]
    device = "/dev/mapper/" + INSPECT["cf-down"]["GraphDriver"]["Data"]["DeviceName"]
    assert [a.to_dict()["cmd"] for a in plan][:3] == [
        "/sbin/docker stop --time 7 %s" % down, "wait until %s is unmounted" % device,
        "/sbin/docker start %s" % down]
    assert [a.to_dict()["cmd"] for a in plan][3::2] == [
        "/sbin/docker stop --time 7 %s" % ro, "/sbin/docker start %s" % ro]
    assert "cf-down: listing its root filesystem failed" in plan[0].why


def test_the_wait_ends_once_dockerd_no_longer_mounts_the_device(tmp_path):
    device = "/dev/mapper/" + INSPECT["cf-down"]["GraphDriver"]["Data"]["DeviceName"]
    table = tmp_path / "mountinfo"
    table.write_text(CAPTURE["dockerd_mountinfo"])
    now = [0.0]
    wait = cf.UnmountWait(device, 5, str(table), clock=lambda: now[0],
                          sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert wait.mounted()
    with pytest.raises(ModuleError) as exc:
        wait.apply()
    assert "still mounted 5 s after its container stopped: Docker itself must restart" in str(
        exc.value) and now[0] >= 5
    table.write_text(CAPTURE["dockerd_mountinfo_after_stop"])
    assert not wait.mounted()
    now[0] = 0.0
    wait.apply()
    assert now[0] == 0.0


def test_dockerd_mount_table_is_the_one_of_its_pid_file(tmp_path):
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "mountinfo").write_text("")
    (tmp_path / "docker.pid").write_text("4242\n")
    assert cf.dockerd_mountinfo(str(tmp_path), str(tmp_path / "docker.pid")) == str(
        tmp_path / "4242" / "mountinfo")
    assert cf.dockerd_mountinfo(str(tmp_path), str(tmp_path / "none.pid")) == str(
        tmp_path / "self" / "mountinfo")


def test_the_report_predicts_in_check_mode_and_tells_what_still_does_not_answer():
    before = [row(name) for name in sorted(INSPECT)]
    checked = cf.restart_report(before, before, True, True)
    assert checked["restarted"] == ["cf-down", "cf-ro"]
    assert checked["not_answering"] == ["cf-down", "cf-ro"]
    assert checked["diff"]["before"]["cf-down"] is False and all(checked["diff"]["after"].values())
    applied = cf.restart_report(before, before, True, False)
    assert applied["diff"]["after"]["cf-down"] is False
    assert cf.restart_report(before, before, False, False)["restarted"] == []
