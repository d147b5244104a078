#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_thinpool_info
short_description: Usage and settings of a device-mapper thin pool, LVM-managed or raw
version_added: 0.1.0
description:
  - Reports a thin pool as P(devmapper.storage.dm_thinpool#module) reports it after a run, with data
    and metadata in use, the kernel's flags (C(needs_check), out of data space, read-only), the block
    size and low water mark, and for LVM pools the profile and whether dmeventd monitors it.
  - Changes nothing, not even the pool's metadata; a raw pool's thin devices are counted from
    its metadata device as the last committed transaction left it (read directly, with no metadata
    snapshot and no message to the pool). An LVM pool's thin volumes are counted from C(lvs).
  - A pool that does not exist is reported with RV(pool.exists=false), not as a failure.
extends_documentation_fragment:
  - devmapper.storage.read_only
  - devmapper.storage.common
options:
  backend:
    description: V(lvm) for an LVM thin pool, V(dm) for a raw device-mapper thin pool.
    type: str
    choices: [lvm, dm]
    default: lvm
  name:
    description:
      - With O(backend=lvm), the pool LV's name (default V(thinpool)).
      - With O(backend=dm), the device-mapper name (required).
    type: str
  vg:
    description: Volume group of an LVM pool. Required with O(backend=lvm).
    type: str
seealso:
  - module: devmapper.storage.dm_thinpool
  - module: devmapper.storage.loop_pool_info
"""

EXAMPLES = r"""
- name: Usage of the direct-lvm pool
  devmapper.storage.dm_thinpool_info:
    vg: docker
    name: thinpool
  register: usage

- name: A loop-backed pool made with dmsetup
  devmapper.storage.dm_thinpool_info:
    backend: dm
    name: docker-thinpool
"""

RETURN = r"""
pool:
  description: The pool, with the fields of P(devmapper.storage.dm_thinpool#module)'s RV(pool).
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the pool exists.
      type: bool
    active:
      description: Whether its device-mapper device is live.
      type: bool
    device:
      description: The pool's device path, for C(dm.thinpooldev).
      type: str
    data_used_percent:
      description: Data space in use, in percent.
      type: float
    metadata_used_percent:
      description: Metadata space in use, in percent.
      type: float
    needs_check:
      description: The kernel flagged the metadata for checking.
      type: bool
    out_of_data_space:
      description: The pool is full.
      type: bool
    thin_device_count:
      description:
        - Thin devices in the pool (an LVM pool's thin volumes, a raw pool's thin ids). Null,
          with RV(pool.thin_device_count_why), for an LVM pool in use without thin volumes
          (Docker's devicemapper driver makes its devices with pool messages, not as LVs).
      type: int
    thin_device_count_why:
      description: Why the pool's thin devices were not counted.
      type: str
  sample: {"exists": true, "active": true, "device": "/dev/mapper/docker-thinpool",
           "transaction_id": 2, "data_used_percent": 0.75, "metadata_used_percent": 10.2}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    exit_module, outcome)
from ansible_collections.devmapper.storage.plugins.module_utils.thinpool import (
    BACKEND_REQUIRES, ThinPoolIO, read_only_pool)


def run_module(module):
    return outcome([], pool=read_only_pool(ThinPoolIO(module), module.params))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type="str", default="lvm", choices=["lvm", "dm"]),
            name=dict(type="str"),
            vg=dict(type="str"),
        ),
        required_if=BACKEND_REQUIRES,
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
