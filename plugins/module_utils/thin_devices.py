# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin devices inside a pool: which ids the metadata holds, which are active under which dm
name, and the pool messages that create, snapshot and delete them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import thin_table
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from ansible_collections.devmapper.storage.plugins.module_utils.thinpool import ThinPoolIO


class ThinDeviceIO(ThinPoolIO):
    def read_pool(self, pool):
        current = self.dm.read_thin_pool(pool)
        if current is None:
            raise ModuleError("pool: no device-mapper pool named %s (for an LVM pool give "
                              "VG-POOL-tpool, e.g. docker-thinpool-tpool)" % pool)
        metadata_path = "/dev/block/" + current["table"]["metadata_dev"]
        ids = None
        if current["status"].held_root is None:
            ids = self.dm.thin_ids_in_metadata(pool, metadata_path)
        current["thin_ids"] = ids
        current["active"] = self.dm.active_thins(current["devno"])
        return current


def name_of_id(active, thin_id):
    for name, dev in sorted(active.items()):
        if dev["device_id"] == thin_id:
            return name
    return None


def id_known(pool_state, thin_id):
    """True/False from the metadata; when thin_ls could not tell, an active device proves it."""
    if pool_state["thin_ids"] is not None:
        return thin_id in pool_state["thin_ids"]
    return name_of_id(pool_state["active"], thin_id) is not None or None


def activate_action(io, pool_name, name, thin_id, sectors):
    return io.dm.create(name, thin_table(sectors, pool_name, thin_id),
                        "activate thin id %d as /dev/mapper/%s" % (thin_id, name))


def check_name_free(active, name, thin_id):
    if name in active and active[name]["device_id"] != thin_id:
        raise ModuleError("name: /dev/mapper/%s is already thin id %d, not %d"
                          % (name, active[name]["device_id"], thin_id))
