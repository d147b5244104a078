#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: loop_pool_info
short_description: The sparse files of a loop-backed thin pool and their loop devices
version_added: 0.1.0
description:
  - Reports a loop-backed pool's data and metadata files as P(devmapper.storage.loop_pool#module)
    reports them after a run, that is whether each exists, its apparent size, the bytes it really occupies
    on disk, the loop device it is attached to and the device-mapper devices holding that open.
  - Changes nothing; files that do not exist are reported with RV(data.exists=false).
extends_documentation_fragment:
  - devmapper.storage.read_only
  - devmapper.storage.common
options:
  data_file:
    description: Path of the sparse data file.
    type: path
    required: true
  metadata_file:
    description: Path of the sparse metadata file. Must differ from O(data_file).
    type: path
    required: true
seealso:
  - module: devmapper.storage.loop_pool
  - module: devmapper.storage.dm_thinpool_info
"""

EXAMPLES = r"""
- name: How much of the loop files' sparse size is really on disk
  devmapper.storage.loop_pool_info:
    data_file: /var/lib/docker-loop/data
    metadata_file: /var/lib/docker-loop/metadata
  register: loops
"""

RETURN = r"""
data:
  description: The data file.
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
    holders:
      description: Names of the device-mapper devices that hold the loop device open.
      type: list
      elements: str
      sample: [docker-thinpool]
metadata:
  description: The metadata file, as RV(data).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.loop_files import (
    ROLES, LoopFileIO, read_pool_files, validate_files)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    exit_module, outcome)


def run_module(module):
    files = read_pool_files(LoopFileIO(module), validate_files(module.params))
    return outcome([], **dict((role, files[role].to_dict()) for role in ROLES))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            data_file=dict(type="path", required=True),
            metadata_file=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
