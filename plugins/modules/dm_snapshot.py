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
    (O(state=absent), with O(force=true)); lists the pool's thin devices (O(state=info)).
  - Idempotent by id and name. The kernel's EEXIST, ENODATA and EBUSY answers are reported as
    sentences that name the thin id and the pool.
  - Needs C(thin_ls) (thin-provisioning-tools) to know which ids the pool's metadata holds.
author:
  - devmapper.storage maintainers (@devmapper)
attributes:
  check_mode:
    support: full
    description: Reports the exact commands it would run in RV(actions), and runs none.
  diff_mode:
    support: full
    description: The pool's thin ids and active thin devices before and after (in check mode, as planned).
options:
  pool:
    description: Device-mapper name of the thin pool (C(docker-thinpool); for an LVM pool C(VG-LV-tpool)).
    type: str
    required: true
  snapshot_id:
    description: Thin id of the snapshot (0 to 16777215).
    type: int
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
    description: V(present) creates (and activates), V(absent) deactivates and deletes, V(info) lists.
    type: str
    choices: [present, absent, info]
    default: present
  force:
    description: Allow deleting a snapshot's data with O(state=absent).
    type: bool
    default: false
notes:
  - An XFS snapshot mounted next to its origin needs the C(nouuid) mount option.
seealso:
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError,
    apply_plan,
    exit_module,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    parse_size,
    to_sectors,
    validate_thin_id,
)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    ThinDeviceIO,
    activate_action,
    check_name_free,
    id_known,
    name_of_id,
)


def plan_snapshot(io, params, pool):
    """Pure: the steps from the pool as read to what is asked."""
    snap = params["snapshot_id"]
    name = params["name"]
    active = pool["active"]
    known = id_known(pool, snap)
    if known is None:
        raise ModuleError("cannot tell which thin ids pool %s holds: thin_ls is missing "
                          "(install thin-provisioning-tools)" % params["pool"])
    actions = []
    if params["state"] == "absent":
        if name and name in active:
            check_name_free(active, name, snap)
            actions.append(io.dm.remove(name, "deactivate the snapshot"))
        other = name_of_id(dict((n, d) for n, d in active.items() if n != name), snap)
        if other:
            raise ModuleError("snapshot_id: thin id %d is active as /dev/mapper/%s; deactivate "
                              "it first (or pass name=%s)" % (snap, other, other))
        if known:
            if not params["force"]:
                raise ModuleError("deleting thin id %d destroys its data; set force=true to "
                                  "delete it" % snap)
            actions.append(io.dm.message(params["pool"], "delete %d" % snap, snap,
                                         "delete thin id %d from the pool" % snap))
        return actions

    if name:
        check_name_free(active, name, snap)
    if not known:
        origin = params["origin_id"]
        if origin is None:
            raise ModuleError("origin_id is required to create snapshot %d" % snap)
        if not id_known(pool, origin):
            raise ModuleError("origin_id: thin id %d does not exist in pool %s"
                              % (origin, params["pool"]))
        origin_name = name_of_id(active, origin)
        message = io.dm.message(params["pool"], "create_snap %d %d" % (snap, origin), snap,
                                "snapshot thin id %d into %d" % (origin, snap))
        if origin_name:
            # the kernel snapshots only a quiesced origin: suspend flushes its in-flight I/O
            actions += [io.dm.suspend(origin_name, "suspend the active origin %s" % origin_name),
                        message,
                        io.dm.resume(origin_name, "resume the origin")]
        else:
            actions.append(message)
    if name and name not in active:
        if params["size"]:
            sectors = to_sectors(parse_size(params["size"], "size"), "size")
        else:
            origin_name = name_of_id(active, params["origin_id"]) \
                if params["origin_id"] is not None else None
            if origin_name is None:
                raise ModuleError("size is required to activate snapshot %d: its origin is not "
                                  "active to take the size from" % snap)
            sectors = active[origin_name]["sectors"]
        actions.append(activate_action(io, params["pool"], name, snap, sectors))
    return actions


def run_module(module):
    params = module.params
    for option in ("snapshot_id", "origin_id"):
        if params[option] is not None:
            validate_thin_id(params[option], option)
    if params["state"] != "info" and params["snapshot_id"] is None:
        raise ModuleError("snapshot_id is required with state=%s" % params["state"])
    if params["snapshot_id"] is not None and params["snapshot_id"] == params["origin_id"]:
        raise ModuleError("snapshot_id and origin_id must differ")
    io = ThinDeviceIO(module)
    before = io.read_pool(params["pool"])
    actions = [] if params["state"] == "info" else plan_snapshot(io, params, before)
    after = before
    if actions and not module.check_mode:
        apply_plan(actions)
        after = io.read_pool(params["pool"])
    result = dict(changed=bool(actions), actions=[a.to_dict() for a in actions],
                  thin_ids=after["thin_ids"], active_devices=after["active"])
    if module._diff:
        predicted = after if not module.check_mode else predict(params, before)
        result["diff"] = {"before": view(before), "after": view(predicted)}
    return result


def view(pool):
    return {"thin_ids": pool["thin_ids"],
            "active": dict((n, d["device_id"]) for n, d in pool["active"].items())}


def predict(params, pool):
    """What check mode expects the plan to leave."""
    ids = set(pool["thin_ids"] or [])
    active = dict(pool["active"])
    snap, name = params["snapshot_id"], params["name"]
    if params["state"] == "absent":
        ids.discard(snap)
        active.pop(name, None)
    elif params["state"] == "present":
        ids.add(snap)
        if name:
            active.setdefault(name, {"device_id": snap, "sectors": None})
    return {"thin_ids": sorted(ids), "active": active}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pool=dict(type="str", required=True),
            snapshot_id=dict(type="int"),
            origin_id=dict(type="int"),
            name=dict(type="str"),
            size=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent", "info"]),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
