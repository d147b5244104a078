#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: converged_state
short_description: The roles' fast path - is this host still as a role last left it?
version_added: 0.1.0
description:
  - With O(state=check), one read-only look at the host answers whether a role that converged it
    earlier would change nothing now. The roles C(loop_lvm), C(direct_lvm) and C(docker_daemon)
    end early when it says so, which makes a no-op re-run of a fleet about one call per host.
  - The answer is yes only when the wanted state (O(fingerprint)) is the one recorded, the host
    looks exactly as recorded (O(files) checksums, O(sizes), pool tables, LVM pool attributes,
    unit states, Docker's driver and pool) and is healthy (pools active and writable, LVM pools
    monitored, no unit failed, Docker answering). Otherwise C(reasons) says why, and the role
    runs in full.
  - With O(state=record), the role records what it left at the end of a full run.
author:
  - devmapper.storage maintainers (@devmapper)
attributes:
  check_mode:
    support: full
    description: V(check) changes nothing in any mode; V(record) only reports in check mode.
  diff_mode:
    support: none
    description: The record is bookkeeping of the collection, not a setting of the host.
options:
  name:
    description: The record's name (one per role and pool), a file name under O(record_dir).
    type: str
    required: true
  state:
    description: V(check) compares; V(record) writes the record.
    type: str
    choices: [check, record]
    default: check
  fingerprint:
    description: The wanted state as one string (the roles hash every role option of the
      collection and the collection's code into it).
    type: str
    required: true
  files:
    description: Files whose content is compared by checksum (a file that is absent is recorded
      as absent).
    type: list
    elements: path
    default: []
  sizes:
    description: Files whose size is compared (the loop-lvm pool's sparse files).
    type: list
    elements: path
    default: []
  dm_pools:
    description: Device-mapper thin pools (by name) that must be active and writable; their table
      is compared without its device numbers.
    type: list
    elements: str
    default: []
  lvm_pools:
    description: LVM thin pools (V(VG/LV)) that must be active and monitored; their size,
      metadata size, chunk size, zeroing and profile are compared.
    type: list
    elements: str
    default: []
  units:
    description: systemd units that must not have failed; their enablement is compared.
    type: list
    elements: str
    default: []
  docker:
    description: What C(docker info) must report.
    type: dict
    suboptions:
      driver:
        description: The storage driver.
        type: str
        required: true
      pool:
        description: The pool name (empty or absent, not checked).
        type: str
  record_dir:
    description: Where the records are kept.
    type: path
    default: /var/lib/devmapper-storage/converged
"""

EXAMPLES = r"""
- name: Is the pool still as the role left it?
  devmapper.storage.converged_state:
    name: loop_lvm-docker-thinpool
    fingerprint: "{{ wanted | to_json | hash('sha256') }}"
    files: [/etc/devmapper-storage/pools/docker-thinpool.conf]
    sizes: [/var/lib/docker-loop/data, /var/lib/docker-loop/metadata]
    dm_pools: [docker-thinpool]
  register: converged

- name: Nothing to do here
  ansible.builtin.meta: end_role
  when: converged.converged
"""

RETURN = r"""
converged:
  description: Whether the host is as recorded, healthy, and wanted the same way (V(check)).
  returned: always
  type: bool
reasons:
  description: Why not (empty when converged; with V(record), why nothing was recorded).
  returned: always
  type: list
  elements: str
recorded:
  description: With V(record), whether a record was written (a host with problems gets none).
  returned: always
  type: bool
observed:
  description: What the host looks like now.
  returned: always
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.converged import (
    docker_problems, judge, lvm_pool_problems, new_record, pool_health_problems, pool_shape,
    unit_problems)
from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import ParseError
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import (
    DMSETUP, DeviceMapper)
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import (
    DOCKER, DockerCli, storage_of)
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    sha256_if_file, size_if_exists)
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LVS, LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import (
    SYSTEMCTL, Systemd)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, WriteFileAction, exit_module)

LVM_FIELDS = ("lv_name,vg_name,lv_size,lv_metadata_size,chunk_size,zero,lv_profile,lv_active,"
              "seg_monitor,lv_health_status")
LVM_COMPARED = ("lv_size", "lv_metadata_size", "chunk_size", "zero", "lv_profile")
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "UnitFileState")


class HostObserver(object):
    """Every read of the host this module makes; nothing here writes."""

    def __init__(self, module):
        self.module = module
        self.dm = DeviceMapper(module)
        self.lvm = LvmReports(module)
        self.systemd = Systemd(module)
        self.docker_cli = DockerCli(module)

    def missing(self, tool):
        """A problem when ``tool`` is not installed (a host as recorded has all of them)."""
        return [] if self.module.get_bin_path(tool) is not None else ["%s is not installed" % tool]

    def file_sha256(self, path):
        return sha256_if_file(path)

    def file_size(self, path):
        return size_if_exists(path)

    def dm_pool(self, name):
        try:
            pool = self.dm.read_thin_pool(name)
        except (ModuleError, ParseError, ValueError) as exc:
            return None, ["pool %s: %s" % (name, getattr(exc, "msg", exc))]
        if pool is None:
            return None, ["pool %s is not active" % name]
        return pool_shape(pool["table"]), pool_health_problems(name, pool["status"])

    def lvm_pools(self, keys):
        rows = {}
        for row in self.lvm.lv_report(LVM_FIELDS, keys, check=False)[1]:
            rows["%s/%s" % (row["vg_name"], row["lv_name"])] = row
        return rows

    def unit_states(self, units):
        return self.systemd.show(units, UNIT_PROPERTIES)

    def docker_info(self):
        info = self.docker_cli.info()
        return storage_of(info) if info is not None else None


def observe(io, params):
    """(observed, problems): what the host looks like and why it would not do to leave it."""
    observed = {"files": {}, "sizes": {}, "dm_pools": {}, "lvm_pools": {}, "units": {}}
    problems = []
    for path in params["files"]:
        observed["files"][path] = io.file_sha256(path)
    for path in params["sizes"]:
        observed["sizes"][path] = io.file_size(path)
        if observed["sizes"][path] is None:
            problems.append("%s does not exist" % path)
    needed = (([DMSETUP] if params["dm_pools"] else []) + ([LVS] if params["lvm_pools"] else [])
              + ([SYSTEMCTL] if params["units"] else []) + ([DOCKER] if params["docker"] else []))
    for tool in needed:
        problems.extend(io.missing(tool))
    if problems:
        return observed, problems
    for name in params["dm_pools"]:
        shape, pool_problems = io.dm_pool(name)
        observed["dm_pools"][name] = shape
        problems.extend(pool_problems)
    if params["lvm_pools"]:
        rows = io.lvm_pools(params["lvm_pools"])
        for key in params["lvm_pools"]:
            row = rows.get(key)
            observed["lvm_pools"][key] = (dict((field, row.get(field)) for field in LVM_COMPARED)
                                          if row else None)
            problems.extend(lvm_pool_problems(key, row))
    if params["units"]:
        states = io.unit_states(params["units"])
        for unit in params["units"]:
            fields = states.get(unit, {})
            observed["units"][unit] = fields.get("UnitFileState")
            if fields.get("LoadState") == "not-found":
                problems.append("unit %s does not exist" % unit)
            else:
                problems.extend(unit_problems(unit, fields.get("ActiveState")))
    if params["docker"]:
        seen = io.docker_info()
        observed["docker"] = seen
        problems.extend(docker_problems(params["docker"], seen))
    return observed, problems


def record_path(params):
    name = params["name"]
    if not name or "/" in name or name.startswith("."):
        raise ModuleError("name: give a plain file name (got %r)" % name)
    return os.path.join(params["record_dir"], name + ".json")


def load_record(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:
        return {"version": None}


def run_module(module):
    params = module.params
    for key in params["lvm_pools"]:
        if key.count("/") != 1 or not all(key.split("/")):
            raise ModuleError("lvm_pools: give each pool as VG/LV (got %r)" % key)
    path = record_path(params)
    record = load_record(path)
    if params["state"] == "check" and record is None:
        # a host no run has converged yet: nothing to compare, so nothing is read
        return {"observed": {}, "recorded": False, "changed": False, "converged": False,
                "reasons": judge(None, params["fingerprint"], {}, [])[1]}
    io = HostObserver(module)
    observed, problems = observe(io, params)
    result = {"observed": observed, "recorded": False, "changed": False}
    if params["state"] == "check":
        converged, reasons = judge(record, params["fingerprint"], observed, problems)
        result.update(converged=converged, reasons=reasons)
        return result
    result["converged"] = not problems
    result["reasons"] = problems
    if problems:
        module.warn("not recorded as converged (the next run will be a full one): %s"
                    % "; ".join(problems))
        return result
    content = json.dumps(new_record(params["fingerprint"], observed), indent=1, sort_keys=True)
    if record != json.loads(content):
        result["changed"] = True
        if not module.check_mode:
            WriteFileAction(module, path, content + "\n", "record the converged state",
                            mode=0o600).apply()
            result["recorded"] = True
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="check", choices=["check", "record"]),
            fingerprint=dict(type="str", required=True),
            files=dict(type="list", elements="path", default=[]),
            sizes=dict(type="list", elements="path", default=[]),
            dm_pools=dict(type="list", elements="str", default=[]),
            lvm_pools=dict(type="list", elements="str", default=[]),
            units=dict(type="list", elements="str", default=[]),
            docker=dict(type="dict", options=dict(driver=dict(type="str", required=True),
                                                  pool=dict(type="str"))),
            record_dir=dict(type="path", default="/var/lib/devmapper-storage/converged"),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
