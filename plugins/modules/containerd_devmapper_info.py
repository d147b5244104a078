#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: containerd_devmapper_info
short_description: containerd's devmapper snapshotter against its thin pool, and the drift between them
version_added: 0.1.0
description:
  - Compares the thin ids a pool holds (read from its metadata device, with no message to the
    pool) with the thin devices containerd's devmapper snapshotter keeps in its state
    (C(POOL_NAME.db) in its C(root_path), a bbolt database read from the file as its last
    transaction left it).
  - Reports orphan ids (in the pool, named by no record of the snapshotter, as a crash between
    the pool's C(create_thin) and the state's write leaves them; the snapshotter's next id can
    collide with one, and it then marks that id faulty for good), devices whose thin id the pool
    does not hold, and what the snapshotter itself marked faulty.
  - Orphan ids can be deleted with P(devmapper.storage.dm_snapshot#module) (C(state=absent),
    C(force=true)); the role devmapper.storage.containerd_devmapper does that in its C(repair)
    entry point.
  - Changes nothing, not even the pool's metadata.
extends_documentation_fragment:
  - devmapper.storage.read_only
  - devmapper.storage.common
attributes:
  check_mode:
    description: Runs the same in check mode.
options:
  pool_name:
    description: Device-mapper name of the pool (containerd's C(pool_name)).
    type: str
    required: true
  root_path:
    description: The snapshotter's state directory (containerd's C(root_path)).
    type: path
    default: /var/lib/containerd/devmapper
seealso:
  - module: devmapper.storage.containerd_config
  - module: devmapper.storage.dm_snapshot
"""

EXAMPLES = r"""
- name: Drift between the pool and containerd's snapshotter
  devmapper.storage.containerd_devmapper_info:
    pool_name: containerd-thinpool
  register: drift
"""

RETURN = r"""
pool_thin_ids:
  description: Thin ids in the pool's metadata.
  type: list
  elements: int
  returned: always
devices:
  description: The snapshotter's thin devices by device-mapper name (device_id, size, parent,
    state, error).
  type: dict
  returned: always
state_file:
  description: The snapshotter's state file, or null when there is none.
  type: str
  returned: always
orphan_ids:
  description: Thin ids in the pool that no device of the snapshotter names.
  type: list
  elements: int
  returned: always
missing_devices:
  description: Devices of the snapshotter whose thin id the pool does not hold.
  type: list
  elements: str
  returned: always
faulty_devices:
  description: Devices the snapshotter marked Faulty.
  type: list
  elements: str
  returned: always
faulty_ids:
  description: Thin ids the snapshotter marked faulty (it never reuses them).
  type: list
  elements: int
  returned: always
in_sync:
  description: No orphan ids and no missing devices.
  type: bool
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.devmapper.storage.plugins.module_utils.snapshotter_io import (
    read_snapshotter_drift)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    exit_module, outcome)


def run_module(module):
    return outcome([], **read_snapshotter_drift(module, module.params))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pool_name=dict(type="str", required=True),
            root_path=dict(type="path", default="/var/lib/containerd/devmapper"),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
