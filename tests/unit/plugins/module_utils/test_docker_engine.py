"""docker_engine_info's reads and wait (module_utils/docker_engine.py) on what was captured in
guests, with a clock that does not wait: docker info of Docker on overlay2 (fixture
migration.json) and of Docker on the loop-lvm pool it made itself, with ``systemctl is-active``
of its unit while it ran and after it was stopped (fixture docker_loop_lvm.json)."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import docker_engine as e
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import DockerCli
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import Systemd
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, exit_module)
from ansible_collections.devmapper.storage.plugins.modules import docker_engine_info
from captured import load, output, outputs
from fake_host import CapturedModule

INFO = "docker info --format '{{json .}}'"
INFO_ARGV = ["/sbin/docker", "info", "--format", "{{json .}}"]


def captured_info():
    return load("migration")[INFO]


def loop_lvm_info():
    return output("docker_loop_lvm", "docker info")


def is_active_records():
    """systemctl is-active of docker.service while Docker ran, then after it was stopped."""
    return outputs("docker_loop_lvm", "systemctl is-active --quiet docker.service")


class Clock(object):
    """Monotonic seconds that move only when slept."""

    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def wait(module, driver, pool, seconds, clock):
    return e.wait_for_storage(DockerCli(module).info, driver, pool, seconds, clock, clock.sleep)


def test_a_docker_on_the_driver_waited_for_answers_at_once():
    module, clock = CapturedModule(captured_info()), Clock()
    info = wait(module, "overlay2", "", 120, clock)
    assert info["Driver"] == "overlay2" and info["Images"] == 3 and info["Containers"] == 2
    assert module.calls == [INFO_ARGV] and clock.slept == []


def test_another_driver_is_asked_every_two_seconds_until_the_time_is_up():
    module, clock = CapturedModule(*[captured_info()] * 4), Clock()
    with pytest.raises(ModuleError) as failed:
        wait(module, "devicemapper", "docker-thinpool", 5, clock)
    assert failed.value.msg == (
        "docker info did not report storage driver devicemapper with pool docker-thinpool within "
        "wait_seconds=5; it last reported driver overlay2, pool none")
    assert failed.value.details == {"seen": {"driver": "overlay2", "pool": None}}
    assert clock.slept == [2, 2, 1]
    assert module.calls == [INFO_ARGV] * 4


def test_a_pool_is_waited_for_as_well_and_zero_seconds_reads_once():
    module, clock = CapturedModule(captured_info()), Clock()
    with pytest.raises(ModuleError) as failed:
        wait(module, "overlay2", "docker-thinpool", 0, clock)
    assert failed.value.msg.endswith("it last reported driver overlay2, pool none")
    assert module.calls == [INFO_ARGV] and clock.slept == []


def test_a_docker_that_does_not_answer_is_said_so():
    # DockerCli.info gives None when docker info fails (test_host_docker)
    clock = Clock()
    with pytest.raises(ModuleError) as failed:
        e.wait_for_storage(lambda: None, "devicemapper", "", 4, clock, clock.sleep)
    assert failed.value.msg == (
        "docker info did not report storage driver devicemapper within wait_seconds=4; it last "
        "reported no storage driver (Docker did not answer)")
    assert failed.value.details == {"seen": None}
    assert clock.slept == [2, 2]


def test_storage_reached_on_the_captured_info():
    info = DockerCli(CapturedModule(captured_info())).info()
    assert e.storage_reached(info, "overlay2", "")
    assert not e.storage_reached(info, "overlay2", "docker-thinpool")
    assert not e.storage_reached(info, "devicemapper", "")
    assert not e.storage_reached(None, "overlay2", "")


def test_a_host_without_docker_is_reported_without_running_anything():
    module = CapturedModule(missing=["dockerd"])
    report = e.read_engine(DockerCli(module), Systemd(module), "docker.service")
    assert report == {"changed": False, "installed": False, "running": False}
    assert module.calls == []


def test_the_report_has_info_when_docker_runs_or_was_waited_for():
    info = DockerCli(CapturedModule(captured_info())).info()
    assert e.engine_report(True, True, info) == {
        "changed": False, "installed": True, "running": True, "info": info}
    assert e.engine_report(True, False, None) == {
        "changed": False, "installed": True, "running": False}
    assert e.engine_report(True, False, info)["info"] == info
    assert e.engine_report(True, True, None)["info"] is None


class Failed(Exception):
    pass


class ParamsModule(CapturedModule):
    def __init__(self, params):
        super(ParamsModule, self).__init__()
        self.params = dict({"service": "docker.service", "wait_for_driver": None,
                            "wait_for_pool": "", "wait_seconds": 120, "expect_driver": None,
                            "expect_pool": "", "config_path": "/etc/docker/daemon.json"},
                           **params)

    def fail_json(self, **kwargs):
        raise Failed(kwargs)

    def exit_json(self, **kwargs):
        raise AssertionError("exit_json(%r) after bad input" % kwargs)


@pytest.mark.parametrize("params,option", [
    ({"wait_for_driver": "devicemapper", "wait_seconds": -1}, "wait_seconds"),
    ({"wait_for_pool": "docker-thinpool"}, "wait_for_pool"),
    ({"expect_pool": "docker-thinpool"}, "expect_pool"),
])
def test_bad_input_fails_naming_the_option_and_changes_nothing(params, option):
    module = ParamsModule(params)
    with pytest.raises(Failed) as failed:
        exit_module(module, docker_engine_info.run_module)
    kwargs = failed.value.args[0]
    assert kwargs["msg"].startswith(option + " ") and kwargs["changed"] is False
    assert module.calls == []


def test_docker_on_its_own_loop_pool_is_waited_for_by_that_pool_and_not_another():
    info = DockerCli(CapturedModule(loop_lvm_info())).info()
    seen = e.seen_storage(info)
    # dockerd names the pool it makes docker-MAJ:MIN-INODE-pool (its root's device and inode)
    assert seen["driver"] == "devicemapper"
    assert seen["pool"].startswith("docker-") and seen["pool"].endswith("-pool"), seen
    module, clock = CapturedModule(loop_lvm_info()), Clock()
    assert wait(module, "devicemapper", seen["pool"], 60, clock) == info and clock.slept == []
    module, clock = CapturedModule(*[loop_lvm_info()] * 2), Clock()
    with pytest.raises(ModuleError) as failed:
        wait(module, "devicemapper", "docker-thinpool", 2, clock)
    assert failed.value.msg.endswith("it last reported driver devicemapper, pool %s" % seen["pool"])


def test_an_active_unit_is_asked_for_docker_info_and_a_stopped_one_is_not():
    active, stopped = is_active_records()
    assert active["rc"] == 0 and stopped["rc"] != 0
    module = CapturedModule(active, loop_lvm_info())
    report = e.read_engine(DockerCli(module), Systemd(module), "docker.service")
    assert report["installed"] and report["running"] and report["changed"] is False
    assert e.seen_storage(report["info"])["driver"] == "devicemapper"
    assert module.calls == [["/sbin/systemctl", "is-active", "--quiet", "docker.service"],
                            INFO_ARGV]
    module = CapturedModule(stopped)
    report = e.read_engine(DockerCli(module), Systemd(module), "docker.service")
    assert report == {"changed": False, "installed": True, "running": False}
    assert module.calls == [["/sbin/systemctl", "is-active", "--quiet", "docker.service"]]


def test_docker_on_its_own_loop_pool_conflicts_with_any_other_pool_even_when_empty():
    """dockerd refuses a new pool while its metadata names a base device in the old one, so even
    the captured Docker with no images is a conflict; its own pool is not."""
    info = DockerCli(CapturedModule(loop_lvm_info())).info()
    own = e.seen_storage(info)["pool"]
    conflict = e.storage_conflict(info, "devicemapper", "docker-thinpool")
    assert conflict["kind"] == "pool"
    assert conflict["reason"] == (
        "Docker runs on devicemapper pool %s (Docker's own loop-lvm pool, over "
        "/var/lib/docker/devicemapper/devicemapper/data) with 0 images and 0 containers; "
        "pointing it at pool docker-thinpool would hide them, and dockerd would not start on "
        "it: its base device is in the old pool (metadata under /var/lib/docker/devicemapper)"
        % own)
    assert e.storage_conflict(info, "devicemapper", own) is None
    assert e.storage_conflict(info, "devicemapper", "") is None


def test_another_driver_conflicts_only_when_it_holds_images_or_containers():
    overlay = DockerCli(CapturedModule(captured_info())).info()
    conflict = e.storage_conflict(overlay, "devicemapper", "docker-thinpool")
    assert conflict == {"kind": "driver", "reason": "Docker runs on overlay2 with 3 images and 2 "
                        "containers; switching it to devicemapper would hide them all"}
    assert e.storage_conflict(overlay, "overlay2", "") is None
    empty = DockerCli(CapturedModule(loop_lvm_info())).info()     # devicemapper, nothing held
    assert e.storage_conflict(empty, "overlay2", "") is None
    assert e.storage_conflict(None, "devicemapper", "docker-thinpool") is None


def test_the_module_reports_the_conflict_only_when_asked():
    active, dummy = is_active_records()

    def report(**params):
        module = ParamsModule(params)
        # docker info, then (asked for the conflict) Docker's unit as Debian ships it
        module.answers = [active, loop_lvm_info(), output("docker_unit", "systemctl cat")]
        return docker_engine_info.run_module(module)
    assert "conflict" not in report()
    assert report(expect_driver="devicemapper", expect_pool="docker-thinpool")[
        "conflict"]["kind"] == "pool"
