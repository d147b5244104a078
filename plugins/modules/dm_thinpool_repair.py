#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dm_thinpool_repair
short_description: Repair the damaged metadata of a thin pool, keeping the old
version_added: 0.1.0
description:
  - Decides with C(thin_check) of the metadata when the pool is down, and with the kernel's own
    status (C(needs_check), read-only, failed) when it is up. Sound metadata is left alone.
  - With O(backend=lvm), runs C(lvconvert --repair), which repairs into the pool's spare metadata
    LV and keeps the damaged metadata as the LV C(POOL_metaN). The metadata of an inactive pool
    is checked through LVM's read-only activation of its C(POOL_tmeta) component, deactivated
    again; the volume group needs free space for a new spare afterwards.
  - With O(backend=dm), for raw pools whose metadata is a file on a loop device, as the
    P(devmapper.storage.loop_lvm#role) and P(devmapper.storage.containerd_devmapper#role) roles
    make them. Damaged metadata is repaired into a new sparse file of the same size with
    C(thin_repair), after C(thin_dump --repair) kept what can be read as XML. The new file must
    pass C(thin_check); only then does it take the old file's path, and the old file is kept as
    C(FILE.damaged-STAMP) beside it (the XML as C(FILE.damaged-STAMP.xml)).
  - Refused while the pool is in use (held open, or thin devices active on it). A pool nothing
    uses is removed first, and the metadata file's loop device detached, once the repaired
    metadata passed C(thin_check) and kept every thin device C(thin_check) did not name as
    damaged (see O(force)). For LVM pools a trial C(thin_repair) into a sparse file under
    C(/var/tmp) shows that before C(lvconvert) runs.
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
  backend:
    description: V(lvm) for an LVM thin pool, V(dm) for a raw pool over a metadata file.
    type: str
    choices: [lvm, dm]
    default: lvm
  name:
    description:
      - With O(backend=lvm), the pool LV's name (default V(thinpool)).
      - With O(backend=dm), the pool's device-mapper name (required).
    type: str
  vg:
    description: Volume group of an LVM pool. Required with O(backend=lvm).
    type: str
  metadata_file:
    description: The pool's metadata file (the file its metadata loop device is attached to).
      Required with O(backend=dm).
    type: path
  force:
    description:
      - Swap in repaired metadata even when C(thin_repair) dropped thin devices that
        C(thin_check) did not name as damaged. Without it such a repair is refused before the
        pool is touched, naming the devices.
      - thin-provisioning-tools 1.1.0 (Debian trixie) drops every device after a damaged one in
        the pool's top-level mapping tree; 0.9 (bookworm) keeps them.
    type: bool
    default: false
seealso:
  - module: devmapper.storage.dm_thinpool
  - module: devmapper.storage.dm_thinpool_info
"""

EXAMPLES = r"""
- name: Repair the direct-lvm pool's metadata (lvconvert --repair; the old kept as thinpool_meta0)
  devmapper.storage.dm_thinpool_repair:
    vg: docker
    name: thinpool

- name: Repair the loop-lvm pool's metadata after its activation failed on thin_check
  devmapper.storage.dm_thinpool_repair:
    backend: dm
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
  description: Where the damaged metadata is kept (a file's path, or VG/LV of an LVM pool); null
    when there was nothing to do.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.metadata_repair import (
    RepairIO, plan_dm, read_dm)
from ansible_collections.devmapper.storage.plugins.module_utils.metadata_repair_lvm import (
    plan_lvm, read_lvm)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, ModuleError, converge, exit_module, outcome)


def run_module(module):
    params = module.params
    io = RepairIO(module)
    if params["backend"] == "lvm":
        params["name"] = "thinpool" if params["name"] is None else params["name"]
        if params["metadata_file"]:
            raise ModuleError("metadata_file is for backend=dm; an LVM pool lives in vg")
        result = converge(module, lambda: read_lvm(io, params), lambda c: plan_lvm(io, c, params["force"]),
                          reread=lambda: read_lvm(io, params))
        new = sorted(set(result.after["kept"]) - set(result.before["kept"]))
        kept = "%s/%s" % (params["vg"], new[-1]) if new else None
    else:
        result = converge(module, lambda: read_dm(io, params), lambda c: plan_dm(io, c, params["force"]),
                          reread=False)
        moved = [a.target for a in result.actions if getattr(a, "source", None) ==
                 params["metadata_file"]]
        kept = moved[0] if moved else None
    return outcome(result.actions, sound=result.before["sound"],
                   check_output=result.before["check_output"], kept=kept)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            backend=dict(type="str", default="lvm", choices=["lvm", "dm"]),
            name=dict(type="str"),
            vg=dict(type="str"),
            metadata_file=dict(type="path"),
            force=dict(type="bool", default=False),
        ),
        required_if=[("backend", "lvm", ["vg"]), ("backend", "dm", ["name", "metadata_file"])],
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
