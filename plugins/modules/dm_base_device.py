#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_base_device
short_description: The base thin device of a pool, with its filesystem
version_added: 0.1.0
description:
  - Creates a thin device (C(create_thin)) in a device-mapper thin pool, activates it under a name
    with the given size, and formats it once, as XFS (default) or as ext4 with the options Docker's
    devicemapper driver used (C(-E nodiscard,lazy_itable_init=0,lazy_journal_init=0), then
    C(tune2fs -c -1 -i 0)).
  - Grows only; growing the device grows its filesystem too, and a filesystem that spans less of
    the device than it could (by a block group or allocation group or more, as its superblock
    says, after a run that grew the device stopped before it) is grown into it. Never formats a
    device that has a filesystem of another type unless O(force=true), and never reformats one
    of the same type.
  - Returns the filesystem's UUID.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reports the commands it would run in RV(actions), and runs none.
  diff_mode:
    description: The device's size, filesystem and UUID before and after (in check mode, as planned).
options:
  pool:
    description: Device-mapper name of the thin pool.
    type: str
    required: true
  device_id:
    description: Thin id of the base device (0 to 16777215).
    type: int
    default: 0
  name:
    description: Device-mapper name to activate it under (C(/dev/mapper/NAME)).
    type: str
    required: true
  size:
    description:
      - Size of the device (Docker's default base size was V(10G)). Grow only. Required with
        O(state=present).
    type: str
  fs_type:
    description: Filesystem to create.
    type: str
    choices: [xfs, ext4]
    default: xfs
  state:
    description: V(present) creates, activates, formats and grows; V(absent) deactivates and deletes.
    type: str
    choices: [present, absent]
    default: present
  force:
    description: Allow formatting over a filesystem of another type, and deleting the device.
    type: bool
    default: false
seealso:
  - module: devmapper.storage.dm_snapshot
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: A 10G XFS base device, id 0
  devmapper.storage.dm_base_device:
    pool: docker-thinpool
    name: docker-base
    size: 10G
  register: base
"""

RETURN = r"""
device:
  description: The activated device.
  returned: when state is present
  type: str
  sample: /dev/mapper/docker-base
uuid:
  description: UUID of its filesystem (null in check mode before it exists).
  returned: when state is present
  type: str
  sample: 5be152e4-1639-4701-b8f5-88b13195deee
fs_type:
  description: Its filesystem type.
  returned: when state is present
  type: str
  sample: xfs
size:
  description: Its size in bytes.
  returned: when state is present
  type: int
  sample: 10737418240
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/sbin/dmsetup message docker-thinpool 0 create_thin 0",
            "why": "create thin id 0"}]
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.base_device import (
    converge_filesystem, device_after, device_report, plan_read_device, read_base_device,
    requested_sectors)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    converge, exit_module, outcome)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import ThinDeviceIO


def run_module(module):
    params = module.params
    sectors = requested_sectors(params)
    io = ThinDeviceIO(module)
    device = converge(module, functools.partial(read_base_device, io, params),
                      functools.partial(plan_read_device, io, params, sectors), reread=False)
    actions = list(device.actions)
    if params["state"] == "present":
        actions += converge_filesystem(module, io, params, device, sectors)
    result = outcome(actions, **device_report(io, params, sectors))
    if module._diff:
        result["diff"] = {"before": device.before["view"],
                          "after": device_after(module, io, params, device.before["view"], sectors)}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            LOCK_ARGS,
            pool=dict(type="str", required=True),
            device_id=dict(type="int", default=0),
            name=dict(type="str", required=True),
            size=dict(type="str"),
            fs_type=dict(type="str", default="xfs", choices=["xfs", "ext4"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            force=dict(type="bool", default=False),
        ),
        required_if=[("state", "present", ["size"])],
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
