#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_snapshot
short_description: Thin snapshots inside a device-mapper thin pool
version_added: 0.1.0
description:
  - Snapshots a thin device (by id) into a new thin id with the pool message C(create_snap),
    suspending and resuming the origin around it when the origin is active, as the kernel requires.
  - Optionally activates the snapshot under a device-mapper name; deletes snapshots
    (O(state=absent), with O(force=true)). P(devmapper.storage.dm_snapshot_info#module) lists a
    pool's thin devices.
  - Idempotent by id and name. The kernel's EEXIST, ENODATA and EBUSY answers are reported as
    sentences that name the thin id and the pool.
  - Knows which ids the pool holds from its metadata device, read without a message to the
    pool, so check mode changes nothing, not even the pool's metadata.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.host_lock
  - devmapper.storage.option_names
attributes:
  check_mode:
    description: Reports the exact commands it would run in RV(actions), and runs none.
  diff_mode:
    description: The pool's thin ids and active thin devices before and after (in check mode, as planned).
options:
  pool:
    description: Device-mapper name of the thin pool (C(docker-thinpool); for an LVM pool C(VG-LV-tpool)).
    type: str
    required: true
  snapshot_id:
    description: Thin id of the snapshot (0 to 16777215).
    type: int
    required: true
  origin_id:
    description: Thin id to snapshot. Required to create a snapshot.
    type: int
  name:
    description: Device-mapper name to activate the snapshot under (C(/dev/mapper/NAME)).
    type: str
  size:
    description:
      - Size of the activated snapshot. Defaults to the active origin's size.
    type: str
  state:
    description: V(present) creates (and activates), V(absent) deactivates and deletes.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: Allow deleting a snapshot's data with O(state=absent).
    type: bool
    default: false
notes:
  - An XFS snapshot mounted next to its origin needs the C(nouuid) mount option.
seealso:
  - module: devmapper.storage.dm_snapshot_info
  - module: devmapper.storage.dm_base_device
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: Snapshot thin id 0 (the base device) into id 1 and activate it
  devmapper.storage.dm_snapshot:
    pool: docker-thinpool
    origin_id: 0
    snapshot_id: 1
    name: base-snap

- name: Delete it
  devmapper.storage.dm_snapshot:
    pool: docker-thinpool
    snapshot_id: 1
    name: base-snap
    state: absent
    force: true
"""

RETURN = r"""
thin_ids:
  description: Thin ids in the pool's metadata after the run (before it, in check mode).
  returned: always
  type: list
  elements: int
  sample: [0, 1]
active_devices:
  description: Active thin devices of the pool, by device-mapper name.
  returned: always
  type: dict
  sample: {"base": {"device_id": 0, "sectors": 20971520}}
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/sbin/dmsetup suspend base", "why": "suspend the active origin"}]
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    ThinDeviceIO, plan_snapshot, pool_view, predict_snapshot, validate_snapshot_params)


def run_module(module):
    params = validate_snapshot_params(module.params)
    io = ThinDeviceIO(module)
    plan = functools.partial(plan_snapshot, io, params)
    done = converge(module, functools.partial(io.read_pool, params["pool"]), plan)
    result = outcome(done.actions, thin_ids=done.after["thin_ids"],
                     active_devices=done.after["active"])
    if module._diff:
        predicted = done.after if not module.check_mode else predict_snapshot(params, done.before)
        result["diff"] = {"before": pool_view(done.before), "after": pool_view(predicted)}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            pool=dict(type="str", required=True),
            snapshot_id=dict(type="int", required=True),
            origin_id=dict(type="int"),
            name=dict(type="str"),
            size=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
