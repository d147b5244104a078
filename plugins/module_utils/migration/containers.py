# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration carries of containers, without doing any of it (pure; unit-tested on
``docker container inspect`` and ``docker network inspect`` captured in a guest).

A container is re-created on the new storage through Docker's API (``POST /containers/create``)
from its own ``docker inspect``: its ``Config`` and ``HostConfig`` go back as they were, so every
setting Docker keeps travels, not only those a command line would spell out. Its id changes (the
old-to-new map is recorded). A writable layer that holds changes travels as a committed image
(``devmapper-migration/layer:OLD_ID-ATTEMPT``), which then is the new container's image; one without
changes keeps its image. User-defined networks are re-created from their own inspect.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

LAYER_REPOSITORY = "devmapper-migration/layer"
BUILT_IN_NETWORKS = ("bridge", "host", "none", "default")
# Settings that name another container by id: the id changes, so they cannot be carried.
BY_ID_MODES = ("NetworkMode", "PidMode", "IpcMode")
# What verify (and the tests) compare between a container and its re-creation: every field the
# migration promises to keep. Fields not listed may differ; Config.Image differs when the layer
# travelled as a committed image (the inspect's Image then names LAYER_REPOSITORY).
KEPT_FIELDS = (
    ("Config", "Cmd"), ("Config", "Entrypoint"), ("Config", "Env"), ("Config", "Labels"),
    ("Config", "User"), ("Config", "WorkingDir"), ("Config", "Hostname"),
    ("Config", "ExposedPorts"), ("Config", "StopTimeout"),
    ("HostConfig", "Binds"), ("HostConfig", "Mounts"), ("HostConfig", "RestartPolicy"),
    ("HostConfig", "NetworkMode"), ("HostConfig", "PortBindings"),
    ("HostConfig", "Memory"), ("HostConfig", "MemorySwap"), ("HostConfig", "NanoCpus"),
    ("HostConfig", "CpuShares"), ("HostConfig", "CpuQuota"), ("HostConfig", "CpusetCpus"),
    ("HostConfig", "PidsLimit"), ("HostConfig", "LogConfig"), ("HostConfig", "VolumesFrom"),
)


def short_id(container_id):
    return container_id[:12]


def name_of(inspect):
    return (inspect.get("Name") or "").lstrip("/")


def uncarriable(inspect):
    """The settings of a container that cannot be carried (each 'Field=value (why)')."""
    host = inspect.get("HostConfig") or {}
    found = []
    for field in BY_ID_MODES:
        value = host.get(field) or ""
        if value.startswith("container:"):
            found.append("HostConfig.%s=%s (names another container by its id, which changes)"
                         % (field, value))
    return found


def mount_destinations(inspect):
    return set(m.get("Destination") for m in inspect.get("Mounts") or [])


def layer_changes(inspect, diff_text):
    """The ``docker diff`` lines that are the container's own changes: not the mount points
    Docker made for its volumes and binds (every container with a mount has those)."""
    skip = mount_destinations(inspect)
    lines = []
    for line in diff_text.splitlines():
        parts = line.split(" ", 1)
        if len(parts) == 2 and parts[1] not in skip:
            lines.append(line)
    return lines


def layer_image(inspect, attempt):
    """The committed layer's name: the container's short id and the migration's attempt (a
    rolled-back attempt's commits must not be re-tagged by the next one)."""
    return "%s:%s-%d" % (LAYER_REPOSITORY, short_id(inspect["Id"]), attempt)


def user_networks(inspects):
    """The user-defined networks the containers are on, sorted."""
    names = set()
    for inspect in inspects:
        for name in ((inspect.get("NetworkSettings") or {}).get("Networks") or {}):
            if name not in BUILT_IN_NETWORKS:
                names.add(name)
    return sorted(names)


def network_body(inspect):
    """``POST /networks/create`` from ``docker network inspect`` (one network)."""
    ipam = inspect.get("IPAM") or {}
    return {"Name": inspect["Name"], "CheckDuplicate": True, "Driver": inspect.get("Driver"),
            "Internal": bool(inspect.get("Internal")),
            "Attachable": bool(inspect.get("Attachable")),
            "EnableIPv6": bool(inspect.get("EnableIPv6")),
            "Options": inspect.get("Options") or {}, "Labels": inspect.get("Labels") or {},
            "IPAM": {"Driver": ipam.get("Driver") or "default", "Config": ipam.get("Config") or [],
                     "Options": ipam.get("Options") or {}}}


def bridge_name(inspect):
    """The host interface of a bridge network (``docker network inspect``): its own name option,
    else br- and the id's first 12; None for another driver."""
    if inspect.get("Driver") != "bridge":
        return None
    return (inspect.get("Options") or {}).get("com.docker.network.bridge.name") or \
        "br-" + inspect["Id"][:12]


def endpoints(inspect):
    """{network: endpoint settings} of a container: the aliases but the old short id (Docker adds
    the new one itself)."""
    found = {}
    old = short_id(inspect["Id"])
    for name, endpoint in sorted(((inspect.get("NetworkSettings") or {}).get("Networks")
                                  or {}).items()):
        found[name] = {"Aliases": [a for a in endpoint.get("Aliases") or [] if a != old] or None,
                       "IPAMConfig": endpoint.get("IPAMConfig"),
                       "Links": endpoint.get("Links"),
                       "DriverOpts": endpoint.get("DriverOpts")}
    return found


def first_network(inspect):
    """The network a container is created on: its HostConfig.NetworkMode's (bridge for
    ``default``), else the first by name."""
    names = sorted(endpoints(inspect))
    mode = (inspect.get("HostConfig") or {}).get("NetworkMode") or "default"
    for name in (mode, "bridge" if mode == "default" else None):
        if name in names:
            return name
    return names[0] if names else None


def other_endpoints(inspect):
    """The networks a container is connected to after its creation (``POST
    /networks/NAME/connect``), with their endpoint settings."""
    first = first_network(inspect)
    return dict((n, e) for n, e in endpoints(inspect).items() if n != first)


def create_body(inspect, image):
    """``POST /containers/create`` from ``docker container inspect`` (one container), on
    ``image``, with the endpoint settings of its first network only: before API 1.44 (Docker 25)
    dockerd refuses to create a container on more than one (``other_endpoints``)."""
    body = dict(inspect["Config"])
    body["Image"] = image
    body["HostConfig"] = dict(inspect["HostConfig"])
    first = first_network(inspect)
    body["NetworkingConfig"] = {"EndpointsConfig": dict(
        (n, e) for n, e in endpoints(inspect).items() if n == first)}
    return body


def creation_order(inspects):
    """Containers that take volumes from others come after those others."""
    by_name = dict((name_of(i), i) for i in inspects)
    done, order = set(), []

    def visit(name, path):
        if name in done or name not in by_name or name in path:
            return
        for source in by_name[name]["HostConfig"].get("VolumesFrom") or []:
            visit(source.split(":")[0], path | set([name]))
        done.add(name)
        order.append(by_name[name])

    for name in sorted(by_name):
        visit(name, set())
    return order


def field(inspect, path):
    value = inspect
    for key in path:
        value = (value or {}).get(key)
    return value


def config_problems(old, new):
    """The KEPT_FIELDS in which a re-created container differs from the one it replaces."""
    name = name_of(old)
    problems = []
    for path in KEPT_FIELDS:
        before, after = field(old, path), field(new, path)
        if (before or None) != (after or None):
            problems.append("container %s: %s is %r, was %r"
                            % (name, ".".join(path), after, before))
    before = sorted(((old.get("NetworkSettings") or {}).get("Networks") or {}))
    after = sorted(((new.get("NetworkSettings") or {}).get("Networks") or {}))
    if before != after:
        problems.append("container %s: networks %s, were %s" % (name, after, before))
    return problems
