"""host/docker.py: the one reader of docker info, on the output captured in a guest (fixture
migration.json)."""

from ansible_collections.devmapper.storage.plugins.module_utils.host import docker
from captured import load
from fake_host import CapturedModule

INFO = "docker info --format '{{json .}}'"


def test_info_reads_the_json_and_storage_of_takes_driver_and_pool():
    module = CapturedModule(load("migration")[INFO])
    info = docker.DockerCli(module).info()
    assert module.calls == [["/sbin/docker", "info", "--format", "{{json .}}"]]
    assert docker.storage_of(info) == {"driver": "overlay2", "pool": None}
    assert docker.pool_name(info) is None


def test_a_docker_that_fails_has_no_info():
    failed = dict(load("migration")[INFO], rc=1)
    assert docker.DockerCli(CapturedModule(failed)).info() is None


def test_installed_looks_for_the_daemon_and_runs_nothing():
    module = CapturedModule()
    assert docker.DockerCli(module).installed() is True
    assert docker.DockerCli(CapturedModule(missing=["dockerd"])).installed() is False
    assert module.calls == []
