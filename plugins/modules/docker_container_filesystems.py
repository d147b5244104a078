#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_container_filesystems
short_description: Whether the root filesystem of each running Docker container still answers,
  and a restart of those that do not
version_added: 0.1.0
description:
  - Probes the root filesystem of every running container from the inside, through its first
    process, read only. It answers when its mount on C(/) exists, its root can be listed,
    and its superblock is not read-only.
  - After a thin pool ran out of data space, a filesystem whose own metadata write failed stops
    answering (XFS shuts down, ext4 with C(errors=remount-ro) turns read-only). Growing the pool
    does not bring it back; a new mount does. With O(restart=true) the module stops each such
    container, waits until Docker has unmounted its filesystem, and starts it (C(docker restart)
    can start it on the old mount), then probes them all again.
  - Reports Docker as not running, with no containers, when its unit O(service) is not active
    (the module does not start it).
  - Used by C(playbooks/recover-full.yml) after the pool has grown.
extends_documentation_fragment:
  - devmapper.storage.common
attributes:
  check_mode:
    description: Probes the containers (read only) and lists the stops, waits and starts it would
      run in RV(actions); stops and starts nothing.
  diff_mode:
    description: Shows, by container name, whether its root filesystem answers before and after
      (predicted in check mode).
options:
  restart:
    description:
      - Restart the containers whose root filesystem does not answer. With V(false) the module
        only reports, and changes nothing.
      - A restart stops the container's processes; their data in memory is lost.
    type: bool
    default: false
  stop_seconds:
    description: How long C(docker stop) waits for a container to stop before it kills it.
    type: int
    default: 10
  service:
    description: Docker's systemd unit.
    type: str
    default: docker.service
seealso:
  - module: devmapper.storage.dm_thinpool_info
  - module: devmapper.storage.docker_engine_info
"""

EXAMPLES = r"""
- name: Which containers lost their filesystem
  devmapper.storage.docker_container_filesystems:
  register: probed

- name: Restart them
  devmapper.storage.docker_container_filesystems:
    restart: true
"""

RETURN = r"""
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/bin/docker stop --time 10 0123abcd", "why": "container web: listing its
            root filesystem failed: Input/output error; a new mount of its filesystem brings it
            back"}]
docker_running:
  description: Whether Docker's unit is active.
  type: bool
  returned: always
containers:
  description: Each running container, as probed after the run (before it in check mode).
  type: list
  elements: dict
  returned: always
  contains:
    id:
      description: The container's id.
      type: str
    name:
      description: The container's name.
      type: str
    device:
      description: The devicemapper driver's thin device of the container (null for another
        storage driver).
      type: str
    root_source:
      description: What is mounted on the container's C(/), as its process sees it.
      type: str
    answers:
      description: Whether the root filesystem answers.
      type: bool
    why:
      description: Why it does not answer ("" when it does).
      type: str
restarted:
  description: The names of the containers the run restarted (would restart, in check mode).
  type: list
  elements: str
  returned: always
not_answering:
  description: The names of the containers whose root filesystem does not answer after the run
    (before it in check mode).
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.container_filesystems import (
    dockerd_mountinfo, plan_restarts, read_containers, restart_report)
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import DockerCli
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import Systemd
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, converge, exit_module, outcome)


def run_module(module):
    params = module.params
    if params["stop_seconds"] < 0:
        raise ModuleError("stop_seconds must be 0 or more, got %d" % params["stop_seconds"])
    docker = DockerCli(module)
    running = docker.installed() and Systemd(module).is_active(params["service"])

    def read():
        return read_containers(docker) if running else []

    def plan(rows):
        return plan_restarts(rows, docker, params["restart"], params["stop_seconds"],
                             dockerd_mountinfo())

    result = converge(module, read, plan)
    return outcome(result.actions, docker_running=running,
                   **restart_report(result.before, result.after, bool(result.actions),
                                    module.check_mode))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            restart=dict(type="bool", default=False),
            stop_seconds=dict(type="int", default=10),
            service=dict(type="str", default="docker.service"),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
