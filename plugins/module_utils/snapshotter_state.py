# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's devmapper snapshotter against its pool: the thin devices its state
(``POOL_NAME.db`` in its root_path, buckets ``devices``: name -> JSON, and ``device_ids``: id ->
free, taken or faulty) names, the thin ids the pool holds, and the drift between them. (The
root_path's ``metadata.db`` is the snapshotter's other database, its snapshots: it names no
thin id.)

- orphan ids: in the pool, named by no device record (a crash between the pool's create_thin and
  the state's write): their blocks are lost to containerd, and the snapshotter's next id may
  collide with one (it then marks the id faulty for good). Deleting them from the pool is safe.
- missing devices: records whose thin id the pool does not hold (the pool re-made, metadata
  restored): the snapshotter cannot use them; only containerd can drop them.
- faulty ids and devices: what the snapshotter itself gave up on ("remain until manually
  handled").

Pure: ``parse_state`` gets ``bbolt.read_buckets``'s dict."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

METASTORE = "metadata.db"       # the snapshots (containerd's snapshots/storage), in root_path


def pool_state_file(root_path, pool_name):
    """The snapshotter's record of its thin devices (containerd's pool_device.go names it)."""
    return os.path.join(root_path, pool_name + ".db")


# DeviceState (containerd snapshots/devmapper/device_info.go), by value
DEVICE_STATES = ("Unknown", "Creating", "Created", "Activating", "Activated", "Suspending",
                 "Suspended", "Resuming", "Resumed", "Deactivating", "Deactivated", "Removing",
                 "Removed", "Faulty")
ID_STATES = {0: "free", 1: "taken", 2: "faulty"}
# states in which a record's thin id may rightly be absent from the pool
NOT_YET_OR_NO_MORE = ("Unknown", "Creating", "Removed", "Faulty")


def state_name(value):
    if isinstance(value, int) and 0 <= value < len(DEVICE_STATES):
        return DEVICE_STATES[value]
    return "unknown %s" % value


def parse_state(buckets):
    """(devices, ids): {name: {device_id, size, parent, state, error}} and {id: state}."""
    devices = {}
    for key, value in (buckets.get(b"devices") or {}).items():
        if key is None or isinstance(value, dict):
            continue
        record = json.loads(value.decode("utf-8"))
        devices[key.decode("utf-8")] = {
            "device_id": record.get("device_id"), "size": record.get("size"),
            "parent": record.get("parent_name") or None,
            "state": state_name(record.get("state")), "error": record.get("error") or None}
    ids = {}
    for key, value in (buckets.get(b"device_ids") or {}).items():
        if key is None or isinstance(value, dict):
            continue
        ids[int(key.decode("ascii"))] = ID_STATES.get(bytearray(value[:1])[0] if value else None,
                                                      "unknown")
    return devices, ids


def drift(pool_ids, devices, ids):
    """What differs between the pool and the snapshotter's state (the module's report)."""
    named = set(d["device_id"] for d in devices.values())
    in_pool = set(pool_ids)
    report = {
        "orphan_ids": sorted(in_pool - named),
        "missing_devices": sorted(name for name, d in devices.items()
                                  if d["device_id"] not in in_pool
                                  and d["state"] not in NOT_YET_OR_NO_MORE),
        "faulty_devices": sorted(name for name, d in devices.items() if d["state"] == "Faulty"),
        "faulty_ids": sorted(i for i, state in ids.items() if state == "faulty"),
    }
    report["in_sync"] = not (report["orphan_ids"] or report["missing_devices"])
    return report
