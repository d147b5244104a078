"""Storage flags given to dockerd outside daemon.json (module_utils/dockerd_flags.py), and what the
preflight makes of them and of a Docker without devicemapper (docker_engine.storage_conflict), on
what guests printed: Docker's unit as Debian ships it (fixture docker_unit), the same with an
ExecStart drop-in and DOCKER_OPTS in /etc/default/docker (docker_flags), and trixie's Docker 26
(docker_trixie)."""

import json

from ansible_collections.devmapper.storage.plugins.module_utils import docker_engine as e
from ansible_collections.devmapper.storage.plugins.module_utils import dockerd_flags as f
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import (
    DockerCli, parse_daemon_version)
from captured import output

CAT = "systemctl cat docker.service"
DEFAULT = "cat /etc/default/docker"
DROPIN = "/etc/systemd/system/docker.service.d/override.conf"


def unit(state):
    return output(state, CAT)["stdout"]


def files(state):
    """The environment files as the guest had them (/etc/default/docker), None for the others."""
    record = output(state, DEFAULT)
    text = record["stdout"] if record["rc"] == 0 else None
    return lambda path: text if path == "/etc/default/docker" else None


def test_the_shipped_unit_gives_dockerd_no_storage_flags():
    files_read = [path for path, dummy in f.unit_files(unit("docker_unit"))]
    assert files_read and files_read[0].endswith("/docker.service"), files_read
    exec_start, dummy, dummy = f.service_settings(unit("docker_unit"))
    assert "dockerd" in exec_start[1]
    assert f.storage_flags(unit("docker_unit"), files("docker_unit")) == []


def test_flags_in_a_drop_in_and_in_docker_opts_are_found_with_their_files():
    found = f.storage_flags(unit("docker_flags"), files("docker_flags"))
    assert found == [
        {"flag": "-s devicemapper", "file": DROPIN, "variable": None},
        {"flag": "--storage-opt dm.basesize=20G", "file": "/etc/default/docker",
         "variable": "DOCKER_OPTS"},
    ]


def test_an_empty_exec_start_resets_the_list():
    exec_start, env_files, dummy = f.service_settings(unit("docker_flags"))
    assert exec_start[0] == DROPIN and "-s devicemapper" in exec_start[1]
    assert "/etc/default/docker" in env_files


def test_flags_are_a_conflict_whether_docker_runs_or_not():
    found = f.storage_flags(unit("docker_flags"), files("docker_flags"))
    conflict = e.storage_conflict(None, "devicemapper", "docker-thinpool", found)
    assert conflict["kind"] == "flags" and conflict["files"] == ["/etc/default/docker", DROPIN]
    assert conflict["reason"].startswith(
        "dockerd is given storage options as flags: -s devicemapper (in %s), --storage-opt "
        "dm.basesize=20G (DOCKER_OPTS in /etc/default/docker); with storage-driver and "
        "storage-opts in daemon.json as well, dockerd would refuse to start" % DROPIN)


def trixie_version():
    return parse_daemon_version(output("docker_trixie", "dockerd --version")["stdout"])


def test_docker_26_has_no_devicemapper_and_is_refused_whatever_it_holds():
    """trixie's image runs dockerd 26 without the docker client (docker info: command not found),
    so dockerd --version says what it is."""
    assert output("docker_trixie", "docker info")["rc"] == 127
    assert output("docker_trixie", "systemctl is-active --quiet docker.service")["rc"] == 0
    version = trixie_version()
    assert e.engine_major(None, version) == 26
    conflict = e.storage_conflict(None, "devicemapper", "docker-thinpool", version=version)
    assert conflict == {"kind": "engine", "reason": "Docker %s has no devicemapper storage driver "
                                                    "(Docker 25 removed it)" % version}
    assert e.storage_conflict(None, "overlay2", "", version=version) is None
    assert e.devicemapper_warning(None, "devicemapper", version) is None  # refused, not warned


def test_a_host_with_the_daemon_and_no_client_gives_no_docker_info():
    from fake_host import CapturedModule
    assert DockerCli(CapturedModule(missing=["docker"])).info() is None


def test_its_unit_gives_no_storage_flags_either():
    assert f.storage_flags(unit("docker_trixie"), files("docker_trixie")) == []


def test_docker_20_is_neither_refused_nor_warned():
    info = json.loads(output("docker_loop_lvm", "docker info")["stdout"])
    assert e.engine_major(info) == 20
    assert e.devicemapper_warning(info, "devicemapper") is None


def test_docker_23_and_24_are_warned_of_and_not_refused():
    """No Debian release here ships Docker 23 or 24 (the issue: prove it on the version input):
    dockerd versions as trixie's names its own."""
    for version, warned in (("22.06.0", False), ("23.0.1", True), ("24.0.7+dfsg1", True),
                            ("25.0.0", False)):
        warning = e.devicemapper_warning(None, "devicemapper", version)
        assert (warning is not None) is warned, (version, warning)
        if warned:
            assert warning.startswith("Docker %s deprecates the devicemapper storage driver and "
                                      "Docker 25 removes it" % version)
    assert e.storage_conflict(None, "devicemapper", "docker-thinpool",
                              version="25.0.0")["kind"] == "engine"


def test_docker_20_passes_by_its_dockerd_version():
    old = parse_daemon_version(output("docker_unit", "dockerd --version")["stdout"])
    assert old.startswith("20.10.")
    assert e.storage_conflict(None, "devicemapper", "docker-thinpool", version=old) is None
