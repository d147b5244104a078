# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_engine_info: whether Docker is installed and its unit active, what ``docker info``
reports, and the wait for a storage driver (and pool). Nothing here changes the host.

The reads go through the tools' homes (host/docker.py for dockerd and ``docker info``,
host/systemd.py for ``systemctl is-active``); the decisions take what was read as data, and the
wait takes its clock and sleep, so that tests answer them with captured output and no waiting.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.docker_root import offline_conflict
from ansible_collections.devmapper.storage.plugins.module_utils.dockerd_flags import storage_flags
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import storage_of
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

POLL_SECONDS = 2


def check_params(params):
    """Refuses options that cannot be met, naming the option first."""
    check_inputs(params, (("wait_for_pool", "optional_dm_name"),
                          ("expect_pool", "optional_dm_name"), ("config_path", "path")))
    if params["wait_seconds"] < 0:
        raise ModuleError("wait_seconds must be 0 or more, got %d" % params["wait_seconds"])
    if params["wait_for_pool"] and not params["wait_for_driver"]:
        raise ModuleError("wait_for_pool (%s) needs wait_for_driver: a pool is reported by the "
                          "devicemapper storage driver" % params["wait_for_pool"])
    if params.get("expect_pool") and not params.get("expect_driver"):
        raise ModuleError("expect_pool (%s) needs expect_driver: a pool is used by the "
                          "devicemapper storage driver" % params["expect_pool"])
    return params


def seen_storage(info):
    """{driver, pool} of ``docker info`` JSON; None when Docker did not answer (no JSON, or the
    client's half of it alone)."""
    return storage_of(info) if info else None


def storage_reached(info, driver, pool):
    """Whether ``docker info`` JSON reports ``driver`` and, when ``pool`` is not empty, that pool
    (DriverStatus' Pool Name)."""
    seen = seen_storage(info)
    return seen is not None and seen["driver"] == driver and (not pool or seen["pool"] == pool)


def seen_text(info):
    seen = seen_storage(info)
    if seen is None:
        return "no storage driver (Docker did not answer)"
    return "driver %s, pool %s" % (seen["driver"], seen["pool"] or "none")


def wait_for_storage(read_info, driver, pool, seconds, clock, sleep):
    """Ask ``read_info()`` (``docker info`` JSON, or None) every POLL_SECONDS until it reports
    ``driver`` (and ``pool``, when not empty); its answer then. ``clock`` gives seconds (monotonic)
    and ``sleep`` waits, as the time module's do. Once ``seconds`` have passed (at once with 0,
    after one read), a ModuleError that says what docker info reported last."""
    deadline = clock() + seconds
    while True:
        info = read_info()
        if storage_reached(info, driver, pool):
            return info
        left = deadline - clock()
        if left <= 0:
            raise ModuleError(
                "docker info did not report storage driver %s%s within wait_seconds=%d; it last "
                "reported %s" % (driver, " with pool %s" % pool if pool else "", seconds,
                                 seen_text(info)),
                seen=seen_storage(info))
        sleep(min(POLL_SECONDS, left))


def _held(info):
    return "%d images and %d containers" % (info.get("Images") or 0, info.get("Containers") or 0)


def _loop_file(info):
    return dict(tuple(pair) for pair in info.get("DriverStatus") or []
                if len(pair) == 2).get("Data loop file")


# Docker 23 deprecated the devicemapper storage driver and Docker 25 removed it (moby's release
# notes; Debian trixie's docker.io 26.1 has none).
DEVICEMAPPER_DEPRECATED = 23
DEVICEMAPPER_REMOVED = 25


def engine_major(info, version=None):
    """The major version of the Docker that answered ``docker info`` (ServerVersion, e.g.
    ``26.1.5+dfsg1``), else of ``version`` (dockerd --version's); None when unknown."""
    version = str((info or {}).get("ServerVersion") or version or "")
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def devicemapper_warning(info, driver, version=None):
    """A warning when ``driver`` is devicemapper on a Docker that deprecates it (23, 24)."""
    major = engine_major(info, version)
    if driver == "devicemapper" and major is not None and \
            DEVICEMAPPER_DEPRECATED <= major < DEVICEMAPPER_REMOVED:
        return ("Docker %s deprecates the devicemapper storage driver and Docker %d removes it: "
                "move this host to overlay2 (playbooks/migrate.yml, storage_migration_target="
                "overlay2) before it gets Docker %d or later"
                % ((info or {}).get("ServerVersion") or version, DEVICEMAPPER_REMOVED,
                   DEVICEMAPPER_REMOVED))
    return None


def _flag_source(flag):
    if flag["variable"]:
        return "%s (%s in %s)" % (flag["flag"], flag["variable"], flag["file"])
    return "%s (in %s)" % (flag["flag"], flag["file"])


def storage_conflict(info, driver, pool, flags=(), version=None):
    """What pointing a running Docker (``docker info`` JSON) at ``driver`` (and, for devicemapper,
    ``pool``; not compared when empty) would cost, as {"kind", "reason"}; None when nothing.

    kind ``engine``: devicemapper asked of a Docker that has none (25 and later).
    kind ``flags``: dockerd's unit gives it storage flags (``flags``, dockerd_flags.storage_flags),
    which dockerd refuses next to the same directives in daemon.json; running or not.
    kind ``driver``: another driver holds images or containers, which the switch hides.
    kind ``pool``: Docker runs devicemapper on another pool (its own loop-lvm pool, or one an admin
    made). Even with nothing in it, dockerd refuses the new pool: the base device its metadata
    under DockerRootDir/devicemapper names lives in the old one."""
    seen = seen_storage(info)
    major = engine_major(info, version)
    if driver == "devicemapper" and major is not None and major >= DEVICEMAPPER_REMOVED:
        where = "; it runs on %s with %s" % (seen["driver"], _held(info)) if seen is not None \
            else ""
        return {"kind": "engine",
                "reason": "Docker %s has no devicemapper storage driver (Docker %d removed it)%s"
                          % ((info or {}).get("ServerVersion") or version, DEVICEMAPPER_REMOVED,
                             where)}
    if flags:
        return {"kind": "flags",
                "files": sorted(set(flag["file"] for flag in flags)),
                "reason": "dockerd is given storage options as flags: %s; with storage-driver and "
                          "storage-opts in daemon.json as well, dockerd would refuse to start "
                          "(a directive given both as a flag and in the configuration file)"
                          % ", ".join(_flag_source(flag) for flag in flags)}
    if seen is None:
        return None
    if seen["driver"] != driver:
        if not (info.get("Images") or info.get("Containers")):
            return None
        return {"kind": "driver",
                "reason": "Docker runs on %s with %s; switching it to %s would hide them all"
                          % (seen["driver"], _held(info), driver)}
    if driver == "devicemapper" and pool and seen["pool"] and seen["pool"] != pool:
        loop_file = _loop_file(info)
        own = " (Docker's own loop-lvm pool, over %s)" % loop_file if loop_file else ""
        return {"kind": "pool",
                "reason": "Docker runs on devicemapper pool %s%s with %s; pointing it at pool %s "
                          "would hide them, and dockerd would not start on it: its base device "
                          "is in the old pool (metadata under %s/devicemapper)"
                          % (seen["pool"], own, _held(info), pool,
                             info.get("DockerRootDir") or "/var/lib/docker")}
    return None


def expected_storage(report, driver, pool, unit_text, read_file, offline=None,
                     daemon_version=None):
    """(conflict, warning) of pointing the Docker of ``report`` (read_engine's) at ``driver`` and
    ``pool``. ``unit_text()`` gives ``systemctl cat`` of Docker's unit (read only when Docker is
    installed), ``read_file(path)`` an environment file's text or None. For a Docker that is
    installed and not running, ``offline()`` gives (its root as docker_root.read_root reads it,
    daemon.json's object) and ``daemon_version()`` dockerd's version."""
    flags = storage_flags(unit_text(), read_file) if report["installed"] else []
    info = report.get("info")
    version = daemon_version() if report["installed"] and info is None and daemon_version \
        else None
    conflict = storage_conflict(info, driver, pool, flags, version)
    if conflict is None and report["installed"] and not report["running"] and offline:
        found, config = offline()
        conflict = offline_conflict(found, config, driver, pool)
    return conflict, devicemapper_warning(info, driver, version)


def engine_report(installed, running, info):
    """The module's result. ``info`` (docker info's JSON; None when it gave none) is reported
    when Docker's unit is active, or when a wait read it."""
    result = {"changed": False, "installed": installed, "running": running}
    if running or info is not None:
        result["info"] = info
    return result


def read_engine(docker_cli, systemd, service, info=None):
    """installed (dockerd is on the host), running (``service`` is active) and, when running,
    docker info. A Docker whose unit is not active is not asked: docker.socket would start it.
    ``info`` already read by a wait is reported as it is."""
    installed = docker_cli.installed()
    running = installed and systemd.is_active(service)
    if running and info is None:
        info = docker_cli.info()
    return engine_report(installed, running, info)
