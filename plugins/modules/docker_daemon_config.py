#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_daemon_config
short_description: Merge settings into Docker's daemon.json, keeping every other key
version_added: 0.1.0
description:
  - Sets the top-level keys O(settings) in Docker's C(daemon.json) and keeps every other key
    the file has, where it is. A key given replaces the file's value whole (a list such as
    C(storage-opts) is not merged item by item).
  - Writes only when the merged object differs from the file's, so a file laid out by hand is
    not rewritten for its layout. The write is atomic (a temporary file in the same directory,
    flushed to disk, renamed over the old one); with O(backup) the old file is copied beside it
    first. The directory is made (mode 0755) when missing.
  - Refuses a file that is not a JSON object (dockerd would not start with it either), and a path
    that is a directory or a symbolic link; it changes nothing then. An empty file counts as
    C({}), as dockerd reads it.
  - Does not restart Docker; a role notifies a handler when the task reports a change.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.option_names
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reports whether it would write, and why, in RV(actions); writes nothing.
  diff_mode:
    description: Shows the file before and after, as the module writes it.
options:
  path:
    description: Absolute path of the file.
    type: path
    default: /etc/docker/daemon.json
  settings:
    description: The keys to set, with their values.
    type: dict
    required: true
  mode:
    description: Octal mode of the file when it is written.
    type: str
    default: "0644"
  backup:
    description: Copy the old file beside it (C(daemon.json.PID.DATE~)) before writing.
    type: bool
    default: true
seealso:
  - module: devmapper.storage.docker_engine_info
"""

EXAMPLES = r"""
- name: Docker on the thin pool, with the file's other settings kept
  devmapper.storage.docker_daemon_config:
    settings:
      storage-driver: devicemapper
      storage-opts:
        - dm.thinpooldev=/dev/mapper/docker-thinpool
        - dm.use_deferred_removal=true
  notify: Restart Docker
"""

RETURN = r"""
actions:
  description: The backup and the write (or what they would be in check mode), with why.
  type: list
  elements: dict
  returned: always
  sample: [{"cmd": "back up /etc/docker/daemon.json", "why": "keep the file as it was"},
           {"cmd": "write /etc/docker/daemon.json",
            "why": "/etc/docker/daemon.json: storage-driver, storage-opts differ"}]
config:
  description: The file's object after the run (in check mode, what it would be).
  type: dict
  returned: always
  sample: {"log-level": "warn", "storage-driver": "devicemapper"}
backup_file:
  description: The copy of the old file.
  type: str
  returned: when a backup was made
  sample: /etc/docker/daemon.json.2211.2026-11-25@12:30:01~
"""

import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.daemon_config import (
    check_params, config_diff, merged, plan_config, read_config)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)


def run_module(module):
    params = module.params
    mode = check_params(params)
    path = params["path"]
    done = converge(module, functools.partial(read_config, path),
                    functools.partial(plan_config, module, path, params["settings"], mode,
                                      params["backup"]),
                    predict=lambda before: {"exists": True,
                                            "config": merged(before["config"],
                                                             params["settings"])})
    result = outcome(done.actions, config=done.after["config"])
    backups = [a.backup_file for a in done.actions if getattr(a, "backup_file", None)]
    if backups:
        result["backup_file"] = backups[0]
    if module._diff:
        result["diff"] = config_diff(path, done.before, done.after)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            path=dict(type="path", default="/etc/docker/daemon.json"),
            settings=dict(type="dict", required=True),
            mode=dict(type="str", default="0644"),
            backup=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
