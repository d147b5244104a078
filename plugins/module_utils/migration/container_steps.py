# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps that carry containers (see containers.py for what is carried and how):

- ``stop_containers`` (Docker runs): every running container is stopped with its own stop
  timeout, then each one's inspect is kept and a writable layer with changes is committed and
  saved (one ``docker save``, so shared layers are written once);
- ``recreate`` (Docker runs on the new storage, the images are back): the writable layers
  loaded, the user-defined networks, then the containers by name, then those that ran are
  started.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    fsync_path, sha256_file)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.containers import (
    bridge_name, config_problems, create_body, creation_order, layer_changes, layer_image, name_of,
    network_body, other_endpoints, uncarriable, user_networks)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.plan import Do
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

STOP_WHY = ("stopped before Docker, with its own stop timeout: with live-restore, stopping Docker "
            "would leave it running and writing")


def containers_file(host):
    return os.path.join(host.export_dir, "containers.json")


def layers_file(host):
    return os.path.join(host.export_dir, "layers.tar")


def note_running(host, state, names):
    state.note_running(names)
    host.save_state(state)


def note_downtime_began(host, state):
    state.note_downtime_began(time.time())
    host.save_state(state)


def downtime_begins(host, state):
    return Do("record the time in %s" % host.params["state_file"],
              "the downtime begins (the result of step start says how long it lasted)",
              note_downtime_began, host, state)


def stop_running(host, state, record=True):
    """The actions that record (with ``record``), then stop, every container that runs now."""
    running = [c for c in host.containers() if c["running"]] if host.docker_info() else []
    actions = []
    if running and record:
        actions.append(Do("record %s in %s" % (", ".join(c["name"] for c in running),
                                               host.params["state_file"]),
                          "the containers that ran (started again on the new storage, or by a "
                          "rollback)", note_running, host, state, [c["name"] for c in running]))
        actions.append(downtime_begins(host, state))
    for container in running:
        actions.append(host.docker_cli.stop(container["name"], str(container["stop_seconds"]),
                                            STOP_WHY))
    return actions


def commit_if_changed(host, state, inspect, layers):
    if layer_changes(inspect, host.docker_cli.diff(inspect["Id"])):
        image = layer_image(inspect, state.data.get("attempt", 1))
        host.docker_cli.commit(inspect["Id"], image, "its writable layer").apply()
        layers[name_of(inspect)] = image


def was_running(inspect):
    return bool((inspect.get("State") or {}).get("Running"))


def inspect_containers(host, state, found):
    """Before the first stop: every container's settings, and the changed layers of those that
    do not run committed (nothing writes to them: done outside the downtime)."""
    found["inspects"] = host.docker_cli.inspect("container",
                                                [c["name"] for c in host.containers()])
    found["layers"] = {}
    for inspect in found["inspects"]:
        if not uncarriable(inspect) and not was_running(inspect):
            commit_if_changed(host, state, inspect, found["layers"])


def save_containers(host, state, found):
    """After the stops: the changed layers of those that ran committed, all the layers saved
    in one docker save, the record written."""
    kept, dropped, layers = [], [], found["layers"]
    for inspect in found["inspects"]:
        if uncarriable(inspect):
            dropped.append({"name": name_of(inspect), "fields": uncarriable(inspect)})
            continue
        kept.append(inspect)
        if was_running(inspect):
            commit_if_changed(host, state, inspect, layers)
    networks = host.docker_cli.inspect("network", user_networks(kept))
    record = {"containers": kept, "networks": networks, "layers": layers, "dropped": dropped}
    if layers:
        tmp = layers_file(host) + ".part"
        host.docker_cli.save(tmp, sorted(set(layers.values())))
        fsync_path(tmp)
        os.rename(tmp, layers_file(host))
        record["layers_sha256"] = sha256_file(layers_file(host))
    host.write_json(containers_file(host), record)
    host.containers_stopped = True


def plan_stop_containers(host, state, result):
    found = {}
    actions = [Do("docker container inspect; docker diff and docker commit of each container "
                  "that does not run", "its settings, and its writable layer if it holds "
                  "changes, before the first stop (outside the downtime)",
                  inspect_containers, host, state, found)]
    actions += stop_running(host, state)
    actions.append(Do("docker diff and docker commit of each container that ran; docker save "
                      "--output %s" % layers_file(host),
                      "the writable layers that hold changes, as they were when they stopped",
                      save_containers, host, state, found))
    return actions


def saved_containers(host):
    record = host.read_json(containers_file(host))
    if record is None:
        raise ModuleError("%s is missing: the containers' export is gone" % containers_file(host))
    return record


def load_layers(host, record):
    if sha256_file(layers_file(host)) != record["layers_sha256"]:
        raise ModuleError("%s does not match its checksum" % layers_file(host))
    host.docker_cli.load(layers_file(host))


def plan_load_layers(host, record, names):
    """The layers' docker load, when a container of ``names`` (to be created) needs one that
    is not there."""
    have = set(tag for image in host.images() for tag in image["tags"])
    if not set(record["layers"][n] for n in names if n in record["layers"]) - have:
        return []
    return [Do("docker load --input %s" % layers_file(host),
               "the writable layers of %s" % ", ".join(sorted(record["layers"])),
               load_layers, host, record)]


def create_network(host, state, inspect):
    new_id = host.docker_api.create_network(network_body(inspect))
    state.note_network(inspect["Name"], new_id, bridge_name(dict(inspect, Id=new_id)))
    host.save_state(state)


def delete_link(host, name):
    host.delete_link(name)


def create_container(host, state, inspect, image):
    new_id = host.docker_api.create_container(name_of(inspect), create_body(inspect, image))
    for network, endpoint in sorted(other_endpoints(inspect).items()):
        host.docker_api.connect_network(network, new_id, endpoint)
    state.note_container(name_of(inspect), inspect["Id"], new_id)
    host.save_state(state)


def start(host, name):
    host.docker_cli.start(name, "it ran before the migration").apply()


def plan_recreate(host, state, result):
    record = saved_containers(host)
    have_networks = set(host.names("network"))
    have = set(host.names("container"))
    actions = plan_load_layers(host, record, [name_of(i) for i in record["containers"]
                                              if name_of(i) not in have])
    for network in record["networks"]:
        if network["Name"] in have_networks:
            continue
        # the old Docker's bridge stays after it stopped (with live-restore, or a leftover),
        # with the network's subnet: the new one's would not be reached
        old = bridge_name(network)
        if old and host.link_exists(old):
            actions.append(Do("ip link delete %s" % old, "the old Docker's bridge of network %s "
                              "(same subnet as the new one)" % network["Name"],
                              delete_link, host, old))
        actions.append(Do("POST /networks/create %s" % network["Name"],
                          "a network its containers are on", create_network, host, state,
                          network))
    for inspect in creation_order(record["containers"]):
        name = name_of(inspect)
        if name in have:
            continue
        image = record["layers"].get(name) or inspect["Config"]["Image"]
        actions.append(Do("POST /containers/create?name=%s (image %s)" % (name, image),
                          "the container as it was (its inspected Config and HostConfig)",
                          create_container, host, state, inspect, image))
    running = set(c["name"] for c in host.containers() if c["running"])
    for name in state.running_before_stop:
        if name not in running and name in [name_of(i) for i in record["containers"]]:
            actions.append(Do("docker start %s" % name, "it ran before the migration",
                              start, host, name))
    result["dropped_containers"] = record["dropped"]
    return actions


def container_problems(host, state):
    """What differs between the saved containers and their re-creations."""
    record = saved_containers(host)
    names = [name_of(i) for i in record["containers"]]
    present = set(host.names("container"))
    problems = ["container %s is missing" % n for n in names if n not in present]
    now = dict((name_of(i), i) for i in host.docker_cli.inspect(
        "container", [n for n in names if n in present]))
    for old in record["containers"]:
        new = now.get(name_of(old))
        if new is None:
            continue
        problems += config_problems(old, new)
        if name_of(old) in state.running_before_stop and \
                not (new.get("State") or {}).get("Running"):
            problems.append("container %s is not running" % name_of(old))
    return problems, len(names)
