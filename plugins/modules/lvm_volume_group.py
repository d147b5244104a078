#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lvm_volume_group
short_description: The LVM volume group under a thin pool, from a list of block devices
version_added: 0.1.0
description:
  - Makes each device of O(devices) a physical volume and puts it in volume group O(vg), as the
    runbook's C(pvcreate) and C(vgcreate) do; a device added to the list later joins the VG with
    C(vgextend) (then grow the pool with M(devmapper.storage.dm_thinpool)).
  - Refuses a device that carries a filesystem, a partition table or any other signature unless
    O(force=true), which wipes it first (C(wipefs --all)). An existing physical volume in no volume
    group is taken as it is.
  - Always refuses a device that is mounted, used as swap, held by another device (for example
    device-mapper), or a physical volume of another volume group. O(force) does not override these.
  - Never wipes, O(force) or not, what may be in use elsewhere, an LVM physical volume that
    C(pvs) does not list (outside LVM's devices file, or filtered out), a RAID, LUKS, ZFS or Ceph
    member, or a whole disk with a partition that is one of these, a physical volume C(pvs) lists
    (its volume group active or not) or held by another device.
  - Every device is checked before anything runs, so one refusal means nothing changes.
  - PVs of the VG that are not in the list stay (shrinking a VG moves data; this module does not
    do it) and are reported in a warning.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.option_names
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reports the commands it would run in RV(actions), and runs none.
  diff_mode:
    description: Shows the VG's physical volumes before and after.
options:
  vg:
    description: Name of the volume group.
    type: str
    required: true
  devices:
    description: Block devices the volume group must hold.
    type: list
    elements: path
    required: true
  force:
    description: Wipe devices that carry a filesystem, partition table or other signature.
    type: bool
    default: false
  state:
    description: V(present) is the only state; the VG is never removed by this module.
    type: str
    default: present
    choices: [present]
"""

EXAMPLES = r"""
- name: Volume group for Docker's thin pool, as the runbook makes it
  devmapper.storage.lvm_volume_group:
    vg: docker
    devices: [/dev/xvdf]

- name: A second disk joins it (then grow the pool with dm_thinpool data_size=95%VG)
  devmapper.storage.lvm_volume_group:
    vg: docker
    devices: [/dev/xvdf, /dev/xvdg]

- name: Reuse a disk that once held a filesystem (its data is destroyed)
  devmapper.storage.lvm_volume_group:
    vg: docker
    devices: [/dev/xvdh]
    force: true
"""

RETURN = r"""
actions:
  description: Commands run (or, in check mode, that would run), each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/sbin/pvcreate --yes /dev/xvdf", "why": "make /dev/xvdf a physical volume"}]
devices_added:
  description: Devices that joined (or would join) the volume group.
  returned: always
  type: list
  elements: str
vg:
  description: The volume group after the run (in check mode, as it is); null when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: Name.
      type: str
    size:
      description: Size in bytes.
      type: int
    free:
      description: Free bytes.
      type: int
    extent_size:
      description: Extent size in bytes.
      type: int
    pv_count:
      description: Number of physical volumes.
      type: int
    pvs:
      description: Physical volumes.
      type: list
      elements: str
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)
from ansible_collections.devmapper.storage.plugins.module_utils.volume_group import (
    VolumeGroupIO, planned_vg, probe_and_plan, validate_params, vg_info)


def run_module(module):
    params = validate_params(module.params)
    io = VolumeGroupIO(module)
    done = converge(module, functools.partial(io.read, params["vg"]),
                    functools.partial(probe_and_plan, module, io, params))
    to_add = done.decided[0]
    result = outcome(done.actions, devices_added=to_add, vg=vg_info(done.after, params["vg"]))
    if module._diff:
        result["diff"] = {"before": vg_info(done.before, params["vg"]) or {},
                          "after": result["vg"] if not module.check_mode
                          else planned_vg(done.before, params["vg"], to_add)}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            vg=dict(type="str", required=True),
            devices=dict(type="list", elements="path", required=True),
            force=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present"]),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
