#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_snapshot_info
short_description: The thin devices of a device-mapper thin pool
version_added: 0.1.0
description:
  - Reports a thin pool's active thin devices (device-mapper name, thin id, size) and, with
    O(read_metadata=true), every thin id its metadata holds, active or not.
  - Changes nothing, not even the pool's metadata. The thin ids are read from the metadata
    device as the pool's last committed transaction left it, without a metadata snapshot or any
    other message to the pool (C(thin_ls) cannot read a live pool's metadata without one).
extends_documentation_fragment:
  - devmapper.storage.read_only
  - devmapper.storage.common
attributes:
  check_mode:
    description: Runs the same in check mode.
options:
  pool:
    description: Device-mapper name of the thin pool (C(docker-thinpool); for an LVM pool C(VG-LV-tpool)).
    type: str
    required: true
  read_metadata:
    description:
      - Also list the thin ids in the pool's metadata.
    type: bool
    default: false
seealso:
  - module: devmapper.storage.dm_snapshot
  - module: devmapper.storage.dm_thinpool_info
"""

EXAMPLES = r"""
- name: Active thin devices of the loop-lvm pool
  devmapper.storage.dm_snapshot_info:
    pool: docker-thinpool

- name: Every thin id in the pool's metadata, inactive ones too
  devmapper.storage.dm_snapshot_info:
    pool: docker-thinpool
    read_metadata: true
  register: thins
"""

RETURN = r"""
thin_ids:
  description: Thin ids in the pool's metadata; null unless O(read_metadata=true).
  returned: always
  type: list
  elements: int
  sample: [0, 1]
thin_ids_why:
  description: Why RV(thin_ids) is null.
  returned: when RV(thin_ids) is null
  type: str
active_devices:
  description: Active thin devices of the pool, by device-mapper name.
  returned: always
  type: dict
  sample: {"base": {"device_id": 0, "sectors": 20971520}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    exit_module, outcome)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    ThinDeviceIO, thin_devices_report)


def run_module(module):
    params = check_inputs(module.params, (("pool", "dm_name"),))
    pool = ThinDeviceIO(module).read_pool(
        params["pool"], read_metadata=params["read_metadata"])
    return outcome([], **thin_devices_report(pool))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pool=dict(type="str", required=True),
            read_metadata=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
