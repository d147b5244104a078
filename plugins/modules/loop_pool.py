#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: loop_pool
short_description: Sparse data and metadata files on loop devices, for a loop-backed thin pool
version_added: 0.1.0
description:
  - Creates the sparse data and metadata files of a loop-lvm style thin pool and attaches each to a
    loop device, re-using the loop device a file is already attached to.
  - Grows the files online (C(truncate) then C(losetup --set-capacity)); never shrinks them.
  - Detaches the loop devices with O(state=absent), refusing while a device-mapper device holds them
    unless O(force=true).
  - Returns the loop device paths, the sizes, and the bytes actually allocated on disk.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.option_names
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reports the exact commands it would run in RV(actions), and runs none.
  diff_mode:
    description: Shows both files, their sizes and loop devices, before and after.
options:
  data_file:
    description: Path of the sparse data file.
    type: path
    required: true
  metadata_file:
    description: Path of the sparse metadata file. Must differ from O(data_file).
    type: path
    required: true
  data_size:
    description:
      - Size of the data file, in bytes or with a binary unit (V(100G), V(512M)).
      - Needed when the file does not exist yet. A larger size grows the file and its loop device
        online; a smaller one is refused.
    type: str
  metadata_size:
    description:
      - Size of the metadata file, as O(data_size). Docker's loop-lvm mode used V(2G).
    type: str
  state:
    description:
      - V(present) makes the files and attaches them; V(absent) detaches them (and removes the files
        with O(remove_files=true)).
      - To only read the files, use P(devmapper.storage.loop_pool_info#module).
    type: str
    choices: [present, absent]
    default: present
  remove_files:
    description:
      - With O(state=absent), delete the files too. Destroys the pool's data, so it needs
        O(force=true).
    type: bool
    default: false
  force:
    description:
      - Allow detaching loop devices that a device-mapper device still holds open, and removing the
        files.
    type: bool
    default: false
  free_space_action:
    description:
      - What to do when the files' sparse sizes (with O(state=present)) exceed what their
        filesystem can give them (its free space plus what the files already hold, less
        O(free_space_reserve)); once the filesystem is full, the pool's writes fail.
      - V(warn) goes ahead with a warning, V(refuse) fails before anything changes, V(ignore)
        does not look.
    type: str
    choices: [warn, refuse, ignore]
    default: warn
  free_space_reserve:
    description: Space to keep free on the files' filesystem, as O(data_size) (V(0) keeps none).
    type: str
    default: "0"
notes:
  - Loop devices do not survive a reboot. The P(devmapper.storage.dm_thinpool#module) module with
    O(devmapper.storage.dm_thinpool#module:state=active) re-attaches them through this module's logic.
seealso:
  - module: devmapper.storage.loop_pool_info
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: Data and metadata files for a loop-backed pool, as Docker's loop-lvm mode made them
  devmapper.storage.loop_pool:
    data_file: /var/lib/docker-loop/data
    metadata_file: /var/lib/docker-loop/metadata
    data_size: 100G
    metadata_size: 2G
  register: loops

- name: Grow the data file online (the pool's table is reloaded by dm_thinpool)
  devmapper.storage.loop_pool:
    data_file: /var/lib/docker-loop/data
    metadata_file: /var/lib/docker-loop/metadata
    data_size: 200G

- name: Detach the loop devices once the pool is removed
  devmapper.storage.loop_pool:
    data_file: /var/lib/docker-loop/data
    metadata_file: /var/lib/docker-loop/metadata
    state: absent
"""

RETURN = r"""
data:
  description: The data file after the run (before it, in check mode).
  returned: always
  type: dict
  contains:
    file:
      description: Path of the file.
      type: str
      sample: /var/lib/docker-loop/data
    exists:
      description: Whether the file exists.
      type: bool
      sample: true
    size:
      description: Apparent size of the file in bytes.
      type: int
      sample: 107374182400
    allocated_bytes:
      description: Bytes the sparse file really occupies on disk.
      type: int
      sample: 11812864
    loop_device:
      description: The loop device the file is attached to, or null.
      type: str
      sample: /dev/loop0
    loop_size:
      description: Size in bytes the loop device presents.
      type: int
      sample: 107374182400
    holders:
      description: Names of the device-mapper devices that hold the loop device open.
      type: list
      elements: str
      sample: [docker-thinpool]
metadata:
  description: The metadata file, as RV(data).
  returned: always
  type: dict
  sample: {"file": "/var/lib/docker-loop/metadata", "exists": true, "size": 2147483648,
           "allocated_bytes": 1605632, "loop_device": "/dev/loop1", "loop_size": 2147483648,
           "holders": ["docker-thinpool"]}
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/bin/truncate --size 214748364800 /var/lib/docker-loop/data",
            "why": "grow data_file from 100G to 200G"},
           {"cmd": "/usr/sbin/losetup --set-capacity /dev/loop0",
            "why": "make /dev/loop0 see the new size of data_file"}]
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.loop_files import (
    ROLES, LoopFileIO, plan_pool_files, predict_pool_files, read_pool_files, read_room,
    validate_params)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, named, outcome)


def run_module(module):
    params = validate_params(module.params)
    io = LoopFileIO(module)
    room = read_room(params) if params["state"] == "present" and \
        params["free_space_action"] != "ignore" else None
    plan = functools.partial(plan_pool_files, io, params, room=room,
                             warn=lambda text: module.warn(named(module, text)))
    done = converge(module, functools.partial(read_pool_files, io, params), plan,
                    predict=functools.partial(predict_pool_files, params))
    result = outcome(done.actions, data=done.after["data"].to_dict(),
                     metadata=done.after["metadata"].to_dict())
    if module._diff:
        result["diff"] = {"before": dict((r, done.before[r].to_dict()) for r in ROLES),
                          "after": dict((r, done.after[r].to_dict()) for r in ROLES)}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            data_file=dict(type="path", required=True),
            metadata_file=dict(type="path", required=True),
            data_size=dict(type="str"),
            metadata_size=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            remove_files=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            free_space_action=dict(type="str", default="warn",
                                   choices=["warn", "refuse", "ignore"]),
            free_space_reserve=dict(type="str", default="0"),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
