#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_thinpool
short_description: Create, inspect, grow, activate and remove device-mapper thin pools
version_added: 0.1.0
description:
  - Manages a thin pool for Docker's devicemapper driver or containerd's devmapper snapshotter,
    either as an LVM thin pool (O(backend=lvm), direct-lvm mode) or as a raw device-mapper table over
    two block devices such as loop devices (O(backend=dm), loop-lvm mode).
  - LVM pools are made the way Docker's runbook makes them (data and metadata LVs, then
    C(lvconvert --thinpool) with 512K chunks and zeroing off), sized in bytes or as a percentage of
    the volume group. A pool already of the requested size is left alone; a larger request grows it
    (for example after C(vgextend)), a smaller one is refused.
  - Raw pools get the table C(0 LEN thin-pool META DATA BLOCK LOW_WATER N FEATURES); when the data or
    metadata device has grown the table is reloaded (suspend, reload, resume).
  - O(state=active) brings back an inactive pool after a reboot (LVM activation, or for raw pools
    the table over the re-attached devices after C(thin_check)). A C(needs_check) flag the kernel
    set in clean metadata is cleared first (C(thin_check --clear-needs-check-flag)), as a step of
    the plan; with it the pool would come up read-only.
  - Every run returns RV(pool), the pool's usage and settings.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.option_names
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reports the exact commands it would run in RV(actions), and runs none.
  diff_mode:
    support: partial
    description: Shows the pool before and after; in check mode the after side is the before side.
options:
  backend:
    description: V(lvm) for an LVM thin pool, V(dm) for a raw device-mapper thin pool.
    type: str
    choices: [lvm, dm]
    default: lvm
  name:
    description:
      - With O(backend=lvm), the pool LV's name (default V(thinpool)).
      - With O(backend=dm), the device-mapper name (required); the pool is C(/dev/mapper/NAME).
    type: str
  state:
    description:
      - V(present) creates or grows the pool (and activates it); V(active) only activates an existing
        pool; V(inactive) deactivates it and keeps its data; V(absent) removes it.
      - To only read a pool, use P(devmapper.storage.dm_thinpool_info#module).
    type: str
    choices: [present, absent, active, inactive]
    default: present
  vg:
    description: Volume group of an LVM pool. Required with O(backend=lvm).
    type: str
  data_size:
    description:
      - Size of an LVM pool's data, in bytes with a binary unit (V(100G)) or as V(N%VG), V(N%PVS) or
        V(N%FREE). V(%FREE) sizes a new pool only, so that re-runs stay idempotent.
      - Unset, a new pool gets V(95%VG) (Docker's runbook) and an existing pool keeps its size.
        Set, an existing pool grows to it (for example V(95%VG) after C(vgextend)).
    type: str
  metadata_size:
    description:
      - Size of an LVM pool's metadata, as O(data_size). Unset, a new pool gets V(1%VG).
    type: str
  chunk_size:
    description:
      - Chunk size of a new LVM pool (default V(512K), as Docker's runbook). It cannot change later;
        a different value for an existing pool is refused.
    type: str
  metadata_lv:
    description:
      - Make the pool from existing LVs instead of new ones, as the runbook's C(lvconvert) step
        does. O(name) is the existing data LV and this the existing metadata LV, both in O(vg).
      - The metadata LV is wiped and the data LV's content given up, so this needs O(force=true).
        Once converted, re-runs leave the pool alone.
    type: str
  zero:
    description: Whether an LVM pool zeroes newly provisioned blocks (off in Docker's runbook).
    type: bool
    default: false
  data_device:
    description: Block device holding a raw pool's data (for example a loop device). O(backend=dm).
    type: path
  metadata_device:
    description: Block device holding a raw pool's metadata. O(backend=dm).
    type: path
  block_size:
    description: Data block size of a new raw pool, a multiple of 64K from 64K to 1G.
    type: str
    default: 64K
  low_water_mark:
    description: Free data blocks below which the kernel raises an event (raw pools).
    type: int
    default: 32768
  skip_block_zeroing:
    description: Do not zero newly provisioned blocks (raw pools).
    type: bool
    default: true
  error_if_no_space:
    description: Fail writes at once when the pool is full instead of queueing them (raw pools).
    type: bool
    default: false
  force:
    description:
      - Allow removing a pool that holds thin devices, converting existing LVs (O(metadata_lv)),
        starting a raw pool on a metadata device that holds other data (its first 4 KiB are zeroed)
        or on a data device with a signature.
    type: bool
    default: false
seealso:
  - module: devmapper.storage.dm_thinpool_info
  - module: devmapper.storage.loop_pool
"""

EXAMPLES = r"""
- name: Direct-lvm pool as Docker's runbook makes it (95% data, 1% metadata, 512K chunks)
  devmapper.storage.dm_thinpool:
    vg: docker
    name: thinpool

- name: Grow the pool to the whole VG after vgextend
  devmapper.storage.dm_thinpool:
    vg: docker
    name: thinpool
    data_size: 95%VG

- name: Bring the pool back after a reboot
  devmapper.storage.dm_thinpool:
    vg: docker
    name: thinpool
    state: active

- name: Loop-backed pool over the loop devices loop_pool attached
  devmapper.storage.dm_thinpool:
    backend: dm
    name: docker-thinpool
    data_device: "{{ loops.data.loop_device }}"
    metadata_device: "{{ loops.metadata.loop_device }}"
"""

RETURN = r"""
pool:
  description: The pool after the run (before it, in check mode).
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
      sample: /dev/mapper/docker-thinpool
    transaction_id:
      description: The pool's transaction id.
      type: int
    data_used_bytes:
      description: Data space in use.
      type: int
    data_total_bytes:
      description: Data space in all.
      type: int
    data_used_percent:
      description: Data space in use, in percent.
      type: float
    metadata_used_bytes:
      description: Metadata space in use.
      type: int
    metadata_total_bytes:
      description: Metadata space in all.
      type: int
    metadata_used_percent:
      description: Metadata space in use, in percent.
      type: float
    block_size:
      description: Data block size in bytes.
      type: int
    low_water_mark:
      description: Low water mark in blocks.
      type: int
    needs_check:
      description: The kernel flagged the metadata for checking.
      type: bool
    out_of_data_space:
      description: The pool is full.
      type: bool
    read_only:
      description: The pool fell back to read-only mode.
      type: bool
    error_if_no_space:
      description: Writes fail at once when the pool is full.
      type: bool
    thin_device_count:
      description:
        - Thin devices in the pool (LVM thin volumes; for raw pools the thin ids of the
          metadata's last committed transaction, read from the metadata device without a
          message to the pool). Null when not counted.
      type: int
    thin_device_count_why:
      description: Why an LVM pool's thin devices were not counted.
      type: str
    profile:
      description: The attached LVM metadata profile (LVM pools).
      type: str
    monitored:
      description: Whether dmeventd monitors the pool (LVM pools; needed for autoextend).
      type: bool
  sample: {"exists": true, "active": true, "device": "/dev/mapper/docker-thinpool",
           "transaction_id": 2, "data_used_percent": 0.75, "metadata_used_percent": 10.2}
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/sbin/lvextend --extents 970 docker/thinpool",
            "why": "grow the pool's data from 1.9G to 3.8G"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)
from ansible_collections.devmapper.storage.plugins.module_utils.thinpool import (
    BACKEND_REQUIRES, ThinPoolIO, pool_handlers, validate_params)


def run_module(module):
    params = validate_params(dict(module.params))
    read, plan, info = pool_handlers(ThinPoolIO(module), params)
    done = converge(module, read, plan)
    result = outcome(done.actions, pool=info(done.after))
    if module._diff:
        result["diff"] = {"before": info(done.before), "after": result["pool"]}
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            backend=dict(type="str", default="lvm", choices=["lvm", "dm"]),
            name=dict(type="str"),
            state=dict(type="str", default="present",
                       choices=["present", "absent", "active", "inactive"]),
            vg=dict(type="str"),
            data_size=dict(type="str"),
            metadata_size=dict(type="str"),
            chunk_size=dict(type="str"),
            metadata_lv=dict(type="str"),
            zero=dict(type="bool", default=False),
            data_device=dict(type="path"),
            metadata_device=dict(type="path"),
            block_size=dict(type="str", default="64K"),
            low_water_mark=dict(type="int", default=32768),
            skip_block_zeroing=dict(type="bool", default=True),
            error_if_no_space=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
        ),
        required_if=BACKEND_REQUIRES,
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
