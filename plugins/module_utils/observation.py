# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fast path observes on a host (converged_state), through the host layer, and the
record of a converged host on disk. Judging what was observed is module_utils/converged.py's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.devmapper.storage.plugins.module_utils.converged import (
    docker_problems, judge, lvm_pool_problems, new_record, pool_health_problems,
    pool_shape, recorded_spec, spec_of, union_of_specs, unit_problems)
from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import ParseError
from ansible_collections.devmapper.storage.plugins.module_utils.docker_engine import (
    storage_conflict)
from ansible_collections.devmapper.storage.plugins.module_utils.dockerd_flags import (
    storage_flags)
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import (
    DMSETUP, DeviceMapper)
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import (
    DOCKER, DockerCli, storage_of)
from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    read_text, sha256_if_file, size_if_exists)
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import LVS, LvmReports
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import (
    SYSTEMCTL, Systemd)
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, WriteFileAction)

LVM_FIELDS = ("lv_name,vg_name,lv_size,lv_metadata_size,chunk_size,zero,lv_profile,lv_active,"
              "seg_monitor,lv_health_status")
LVM_COMPARED = ("lv_size", "lv_metadata_size", "chunk_size", "zero", "lv_profile")
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "UnitFileState")
# docker.pool is the pool inside the docker option: an empty one is not checked
CONVERGED_INPUTS = (("name", "file_name"), ("files", "path"), ("sizes", "path"),
                    ("dm_pools", "dm_name"), ("lvm_pools", "vg_lv"), ("record_dir", "path"),
                    ("docker.pool", "optional_dm_name"))


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

    def docker_flags(self, service):
        """The storage flags Docker's unit gives dockerd (dockerd_flags.storage_flags)."""
        return storage_flags(self.systemd.cat(service), read_text)


def observe(io, params):
    """(observed, problems): what the host looks like and why it would not do to leave it
    (``params``: a spec, see converged.spec_of)."""
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
        want = params["docker"]
        seen = io.docker_info()
        observed["docker"] = seen
        problems.extend(docker_problems(want, seen))
        # what the roles' preflight refuses (flags next to daemon.json stop dockerd's next start),
        # in its words: such a host takes the full run, whose preflight says what to do
        conflict = storage_conflict(None, want["driver"], want.get("pool"),
                                    io.docker_flags(want.get("service") or "docker.service"))
        if conflict:
            problems.append(conflict["reason"])
    return observed, problems


def record_path(params):
    return os.path.join(params["record_dir"], params["name"] + ".json")


def load_record(path):
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            return json.load(handle)
    except ValueError:
        return {"version": None}


def check_params(params):
    """The options, checked before anything is read."""
    given = sorted(key for key, value in spec_of(params).items() if value)
    if params.get("recorded_spec"):
        if params["state"] != "check":
            raise ModuleError("recorded_spec: only with state=check (a record needs what it "
                              "compares given)")
        given += ["specs"] if params.get("specs") else []
        if given:
            raise ModuleError("recorded_spec: the record says what to compare; leave %s unset"
                              % ", ".join(given))
    if params.get("specs") and given:
        raise ModuleError("specs: give either specs or %s, not both" % ", ".join(given))
    for spec in [params] + list(params.get("specs") or []):
        docker = spec.get("docker") or {}
        check_inputs(dict(spec, name=params["name"], record_dir=params["record_dir"],
                          **{"docker.pool": docker.get("pool")}), CONVERGED_INPUTS)
    return params


def wanted_spec(params, record):
    """(spec, reasons): what this run compares: the options, the union of ``specs``, or (with
    recorded_spec) what the record lists; reasons when the record lists nothing."""
    if params.get("recorded_spec"):
        return recorded_spec(record)
    if params.get("specs"):
        return union_of_specs(spec_of(spec) for spec in params["specs"]), []
    return spec_of(params), []


def nothing_recorded(params):
    """The answer of state=check on a host no run has converged yet: nothing to compare, so
    nothing is read."""
    return {"observed": {}, "recorded": False, "changed": False, "converged": False,
            "reasons": judge(None, params["fingerprint"], {}, [])[1]}


def checked(params, record, observed, problems):
    converged, reasons = judge(record, params["fingerprint"], observed, problems)
    return {"observed": observed, "recorded": False, "changed": False, "converged": converged,
            "reasons": reasons}


def recorded(module, params, path, record, observed, problems, spec):
    """state=record: write what was observed as converged, unless there are problems (then the
    next run is a full one) or the record already says so."""
    result = {"observed": observed, "recorded": False, "changed": False,
              "converged": not problems, "reasons": problems}
    if problems:
        module.warn("not recorded as converged (the next run will be a full one): %s"
                    % "; ".join(problems))
        return result
    content = json.dumps(new_record(params["fingerprint"], observed, spec), indent=1,
                         sort_keys=True)
    if record != json.loads(content):
        result["changed"] = True
        if not module.check_mode:
            WriteFileAction(module, path, content + "\n", "record the converged state",
                            mode=0o600).apply()
            result["recorded"] = True
    return result
