#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: containerd_config
short_description: Give containerd's devmapper snapshotter its pool, keeping every other setting
version_added: 0.1.0
description:
  - Writes the devmapper snapshotter's table (C(pool_name), C(root_path), C(base_image_size),
    C(async_remove), C(discard_blocks), C(fs_type), C(fs_options)) into a file of its own,
    O(dropin_path), and adds that file to the main file's top-level C(imports). The table's
    name follows the main file's own C(version) key (none is version 1, containerd 1.x, with
    C([plugins.devmapper]); 2 and 3 C([plugins."io.containerd.snapshotter.v1.devmapper"])).
  - With O(cri_default_snapshotter=true) the CRI plugin's default snapshotter is set to
    C(devmapper) in the main file's own CRI table (version 1 C(plugins.cri.containerd), 2
    C(plugins."io.containerd.grpc.v1.cri".containerd), 3 C(plugins."io.containerd.cri.v1.images")).
    It is not imported, because containerd 1.6 and 1.7 replace a plugin's whole table with an
    imported one.
  - Before writing, containerd itself (C(containerd config dump)) reads the file as it is and as it
    would be written; a file containerd cannot read is refused, and so is a merge that would
    change any other setting. Nothing is changed then.
  - Writes atomically, the main file's old copy kept beside it (O(backup)). A missing main file is
    made with the version of the installed containerd (2 for 1.x, 3 for 2.x). Does not restart
    containerd; a role notifies a handler when the task reports a change.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.option_names
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reads and judges the merge as in a real run (containerd reads copies in the
      module's temporary directory), and writes nothing.
  diff_mode:
    description: Shows the main file and the drop-in before and after.
options:
  path:
    description: containerd's main configuration file.
    type: path
    default: /etc/containerd/config.toml
  dropin_path:
    description: The file that holds the devmapper table alone (absolute).
    type: path
    default: /etc/containerd/conf.d/devmapper-storage.toml
  pool_name:
    description: Device-mapper name of the thin pool the snapshotter uses.
    type: str
    required: true
  root_path:
    description: The snapshotter's state directory (its metadata of thin devices); containerd's
      default when unset.
    type: path
  base_image_size:
    description: Size of the thin device each image's base layer gets (containerd's own syntax,
      for example C(10GB)).
    type: str
    default: 10GB
  async_remove:
    description: Remove thin devices in the background.
    type: bool
    default: false
  discard_blocks:
    description: Discard a removed device's blocks, giving them back to the pool.
    type: bool
    default: false
  fs_type:
    description: File system of new thin devices.
    type: str
    choices: [ext4, xfs]
    default: ext4
  fs_options:
    description: Options given to mkfs for new thin devices.
    type: str
  cri_default_snapshotter:
    description: Make devmapper the CRI plugin's default snapshotter (in the main file).
    type: bool
    default: false
  backup:
    description: Copy the old main file beside it before writing.
    type: bool
    default: true
  force:
    description:
      - Give the snapshotter a pool its state does not describe. Without it the module refuses
        a pool that holds thin devices while the snapshotter has no state in its C(root_path)
        (a pool another engine used, or one whose state was deleted; the snapshotter's own thin
        ids would collide with them), and a change of pool while the state of the old one is
        kept.
    type: bool
    default: false
seealso:
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: containerd's devmapper snapshotter on the loop pool
  devmapper.storage.containerd_config:
    pool_name: containerd-thinpool
    root_path: /var/lib/containerd/devmapper
    base_image_size: 8GB
  notify: Restart containerd
"""

RETURN = r"""
actions:
  description: The writes (or what they would be in check mode), each with why.
  type: list
  elements: dict
  returned: always
  sample: [{"cmd": "write /etc/containerd/conf.d/devmapper-storage.toml",
            "why": "the devmapper snapshotter's table"}]
version:
  description: The main file's configuration version.
  type: int
  returned: always
  sample: 2
backup_file:
  description: The copy of the old main file.
  type: str
  returned: when a backup was made
"""

import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.devmapper.storage.plugins.module_utils.containerd_files import (
    check_params, plan_files, read_files)
from ansible_collections.devmapper.storage.plugins.module_utils.host.containerd import Containerd
from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)


def run_module(module):
    params = check_params(module.params)
    io = Containerd(module)
    done = converge(module, functools.partial(read_files, io, params),
                    functools.partial(plan_files, module, io, params), reread=False)
    result = outcome(done.actions, version=done.before["version"])
    backups = [a.backup_file for a in done.actions if getattr(a, "backup_file", None)]
    if backups:
        result["backup_file"] = backups[0]
    if module._diff and done.decided:
        result["diff"] = done.decided[0]
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            path=dict(type="path", default="/etc/containerd/config.toml"),
            dropin_path=dict(type="path", default="/etc/containerd/conf.d/devmapper-storage.toml"),
            pool_name=dict(type="str", required=True),
            root_path=dict(type="path"),
            base_image_size=dict(type="str", default="10GB"),
            async_remove=dict(type="bool", default=False),
            discard_blocks=dict(type="bool", default=False),
            fs_type=dict(type="str", default="ext4", choices=["ext4", "xfs"]),
            fs_options=dict(type="str"),
            cri_default_snapshotter=dict(type="bool", default=False),
            backup=dict(type="bool", default=True),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
