# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reads of containerd_devmapper_info: the pool's thin ids (its metadata device) and the
snapshotter's state file, then snapshotter_state.drift on them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.bbolt import (
    BoltError,
    read_buckets,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import (
    DeviceMapper,
    metadata_path,
)
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from ansible_collections.devmapper.storage.plugins.module_utils.snapshotter_state import (
    drift,
    parse_state,
    pool_state_file,
)


def read_state_file(path):
    """(devices, ids) of the snapshotter's state file; empty when there is none."""
    if not os.path.exists(path):
        return {}, {}
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return parse_state(read_buckets(data))
    except (BoltError, ValueError, KeyError) as exc:
        raise ModuleError("root_path: %s is not a state file of containerd's devmapper "
                          "snapshotter this module can read: %s" % (path, exc))


def read_snapshotter_drift(module, params):
    check_inputs(params, (("pool_name", "dm_name"), ("root_path", "path")))
    dm = DeviceMapper(module)
    pool = dm.read_thin_pool(params["pool_name"])
    if pool is None:
        raise ModuleError("pool_name: no device-mapper thin pool named %s is active"
                          % params["pool_name"])
    ids = dm.thin_ids_in_metadata(metadata_path(pool["table"]))
    path = pool_state_file(params["root_path"], params["pool_name"])
    devices, id_states = read_state_file(path)
    report = {"pool_thin_ids": ids, "devices": devices,
              "state_file": path if os.path.exists(path) else None}
    report.update(drift(ids, devices, id_states))
    return report
