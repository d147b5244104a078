#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_thinpool_repair
short_description: Repair the damaged metadata of a loop-backed thin pool, keeping the old
version_added: 0.1.0
description:
  - For raw device-mapper pools whose metadata is a file on a loop device, as the
    P(devmapper.storage.loop_lvm#role) and P(devmapper.storage.containerd_devmapper#role) roles
    make them.
  - Decides with C(thin_check) of the metadata file when the pool is down, and with the kernel's
    own status (C(needs_check), read-only, failed) when it is up. Sound metadata is left alone.
  - Damaged metadata is repaired into a new sparse file of the same size with C(thin_repair),
    after C(thin_dump --repair) kept what can be read as XML. The new file must pass
    C(thin_check); only then does it take the old file's path, and the old file is kept as
    C(FILE.damaged-STAMP) beside it (the XML as C(FILE.damaged-STAMP.xml)).
  - Refused while the pool is in use (held open, or thin devices active on it). A pool nothing
    uses is removed first, and the metadata file's loop device detached.
  - The pool is not brought back; its activation does that (the role's C(activate) entry
    point, C(playbooks/reactivate.yml), or the boot unit), with C(thin_check) first.
  - Thin devices whose mapping tree could not be read come back empty, and their blocks go back
    to the pool; the damaged file keeps what they were.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.host_lock
  - devmapper.storage.option_names
attributes:
  check_mode:
    description: Reads the metadata (thin_check, read only) and lists every command of the
      repair in RV(actions); runs none.
  diff_mode:
    support: none
    description: The result lists the commands instead.
options:
  name:
    description: The pool's device-mapper name.
    type: str
    required: true
  metadata_file:
    description: The pool's metadata file (the file its metadata loop device is attached to).
    type: path
    required: true
seealso:
  - module: devmapper.storage.dm_thinpool
  - module: devmapper.storage.dm_thinpool_info
"""

EXAMPLES = r"""
- name: Repair the loop-lvm pool's metadata after its activation failed on thin_check
  devmapper.storage.dm_thinpool_repair:
    name: docker-thinpool
    metadata_file: /var/lib/docker-loop/metadata
"""

RETURN = r"""
actions:
  description: The commands run (or, in check mode, that would run), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "/usr/sbin/thin_repair -i /var/lib/docker-loop/metadata -o
            /var/lib/docker-loop/metadata.repaired", "why": "repair what can be read into the new
            metadata"}]
sound:
  description: Whether the metadata was sound before the run (nothing to do).
  type: bool
  returned: always
check_output:
  description: What thin_check said of the metadata before the run, or the pool's mode when it
    was active.
  type: str
  returned: always
kept:
  description: The path the damaged metadata is kept at (null when there was nothing to do).
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.metadata_repair import (
    RepairIO, plan_dm, read_dm)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)


def run_module(module):
    io = RepairIO(module)
    result = converge(module, lambda: read_dm(io, module.params), lambda c: plan_dm(io, c),
                      reread=False)
    kept = [a.target for a in result.actions if getattr(a, "source", None) ==
            module.params["metadata_file"]]
    return outcome(result.actions, sound=result.before["sound"],
                   check_output=result.before["check_output"], kept=kept[0] if kept else None)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            name=dict(type="str", required=True),
            metadata_file=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
