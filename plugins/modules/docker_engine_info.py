#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_engine_info
short_description: Whether Docker is installed and running, and what C(docker info) reports
version_added: 0.1.0
description:
  - Reports whether Docker's daemon (C(dockerd)) is installed, whether its systemd unit
    O(service) is active, and, when it is, C(docker info) as JSON.
  - A Docker whose unit is not active is not asked (C(docker.socket) would start it).
  - With O(wait_for_driver), first asks C(docker info) every 2 seconds until it reports that
    storage driver (and the pool O(wait_for_pool), when given), and fails after O(wait_seconds)
    saying what it reported last. The roles wait so after restarting Docker.
  - Changes nothing.
extends_documentation_fragment:
  - devmapper.storage.read_only
  - devmapper.storage.common
options:
  service:
    description: Docker's systemd unit.
    type: str
    default: docker.service
  wait_for_driver:
    description: The storage driver to wait for (C(docker info)'s C(Driver)); no wait when
      empty or absent.
    type: str
  wait_for_pool:
    description: The pool to wait for as well (C(Pool Name) in C(DriverStatus), which the
      devicemapper driver reports); not checked when empty. Needs O(wait_for_driver).
    type: str
    default: ""
  wait_seconds:
    description: How long to wait for O(wait_for_driver), 0 or more (V(0) reads once).
    type: int
    default: 120
  expect_driver:
    description:
      - The storage driver a caller is about to point Docker at. When given, RV(conflict) says
        what that would cost (C(systemctl cat) of O(service) is read for dockerd's flags).
    type: str
  expect_pool:
    description: With O(expect_driver=devicemapper), the pool (its device-mapper name) Docker
      is about to be pointed at; not compared when empty.
    type: str
    default: ""
  config_path:
    description:
      - Docker's daemon.json. With O(expect_driver) and a Docker that is not running (stopped,
        failed, or waiting behind C(docker.socket), which C(docker info) would start), its root
        directory (C(data-root)) is read instead, for the image databases of each storage driver, the
        containers, and the devicemapper driver's metadata and loop files.
    type: path
    default: /etc/docker/daemon.json
seealso:
  - module: devmapper.storage.converged_state
"""

EXAMPLES = r"""
- name: Read whether Docker is installed and which storage it runs on
  devmapper.storage.docker_engine_info:
  register: docker_engine

- name: Wait until Docker runs on the pool after a restart
  devmapper.storage.docker_engine_info:
    wait_for_driver: devicemapper
    wait_for_pool: docker-thinpool
    wait_seconds: 120
"""

RETURN = r"""
installed:
  description: Whether Docker's daemon (C(dockerd)) is installed.
  returned: always
  type: bool
  sample: true
running:
  description: Whether O(service) is active (false when Docker is not installed).
  returned: always
  type: bool
  sample: true
info:
  description: C(docker info --format '{{json .}}') as JSON (null when it gave none).
  returned: when Docker is running, or after a wait
  type: dict
  sample: {"Driver": "devicemapper", "DriverStatus": [["Pool Name", "docker-thinpool"]],
           "Images": 3, "Containers": 2}
conflict:
  description:
    - What pointing the running Docker at O(expect_driver) (and O(expect_pool)) would cost;
      null when nothing. C(kind) is C(engine) when O(expect_driver=devicemapper) and the Docker
      is 25 or later, which has no devicemapper driver; C(flags) when Docker's unit gives dockerd
      storage flags (in C(ExecStart), or through a variable from C(Environment) or an
      environment file such as /etc/default/docker), which dockerd refuses next to the same
      settings in daemon.json (C(files) names where they are written); C(driver) when another driver holds
      images or containers, which the switch would hide; C(pool) when Docker runs devicemapper
      on another pool (it would not start on the new one, even with nothing stored).
    - On Docker 23 and 24, which deprecate devicemapper, the module warns.
  returned: when O(expect_driver) is given
  type: dict
  sample: {"kind": "pool", "reason": "Docker runs on devicemapper pool docker-98:0-12584-pool
           (Docker's own loop-lvm pool, over /var/lib/docker/devicemapper/devicemapper/data)
           with 3 images and 2 containers; ..."}
"""

import functools
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.docker_engine import (
    check_params, expected_storage, read_engine, wait_for_storage)
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import DockerCli
from ansible_collections.devmapper.storage.plugins.module_utils.docker_root import read_offline
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import read_text
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import Systemd
from ansible_collections.devmapper.storage.plugins.module_utils.runners import exit_module


def run_module(module):
    params = check_params(module.params)
    docker_cli = DockerCli(module)
    info = None
    if params["wait_for_driver"]:
        info = wait_for_storage(docker_cli.info, params["wait_for_driver"],
                                params["wait_for_pool"], params["wait_seconds"],
                                time.monotonic, time.sleep)
    systemd = Systemd(module)
    result = read_engine(docker_cli, systemd, params["service"], info)
    if params["expect_driver"]:
        result["conflict"], warning = expected_storage(
            result, params["expect_driver"], params["expect_pool"],
            functools.partial(systemd.cat, params["service"]), read_text,
            functools.partial(read_offline, params["config_path"]), docker_cli.daemon_version)
        if warning:
            module.warn(warning)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str", default="docker.service"),
            wait_for_driver=dict(type="str"),
            wait_for_pool=dict(type="str", default=""),
            wait_seconds=dict(type="int", default=120),
            expect_driver=dict(type="str"),
            expect_pool=dict(type="str", default=""),
            config_path=dict(type="path", default="/etc/docker/daemon.json"),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
