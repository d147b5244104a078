# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's run function: the control steps (status, preflight, begin, record, finish,
rollback) and the registered steps, with the one check-mode gate (``run_registered``). A
registered step given ``through`` runs the next ones too, in one module run: the role does the
whole downtime so."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import time

from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.managed_files import (
    check_params as check_files)
from ansible_collections.devmapper.storage.plugins.module_utils.migration import checks
from ansible_collections.devmapper.storage.plugins.module_utils.migration.host import (
    DOCKER_UNITS, MigrationHost, remove_on_one_device)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.inventory import (
    MIGRATION_INPUTS)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.rollback import rollback
from ansible_collections.devmapper.storage.plugins.module_utils.migration.state import (
    PHASE_COMPLETE, PHASE_MIGRATING, PHASE_ROLLING_BACK, MigrationState)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.steps import (
    MODULE_STEPS, PLANNERS, ROLE_STEPS, STEP_NAMES)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, apply_plan)

CONTROL_STEPS = ("status", "preflight", "begin", "record", "finish", "rollback")
# The module's choices for ``step`` (and ``name`` with step=record)
STEP_CHOICES = CONTROL_STEPS + tuple(s for s in STEP_NAMES if s not in ROLE_STEPS)
RECORD_CHOICES = ROLE_STEPS
# ``through``: the steps the module runs itself
THROUGH_CHOICES = MODULE_STEPS


def saved_paths(params):
    """What a rollback puts back: the configuration paths, and every file the switch writes or
    removes that none of them holds."""
    paths = list(params["config_paths"])
    for path in [f["path"] for f in params["switch_files"] or []] + \
            list(params["switch_remove"] or []) + [params["daemon_config_path"]]:
        path = os.path.normpath(path)
        if not [p for p in paths if path == p or path.startswith(p.rstrip("/") + "/")]:
            paths.append(path)
    return paths


def begin(host, state):
    if state is not None and state.phase in (PHASE_MIGRATING, PHASE_ROLLING_BACK):
        return {"changed": False}
    params = host.params
    checked = checks.preflight(host)
    config_dir = host.path("config")
    paths = saved_paths(params)
    host.did("record the inventory; copy %s to %s" % (", ".join(paths), config_dir),
             "what a rollback puts back")
    if host.check_mode:
        return {"changed": True, "inventory": checked["inventory"]}
    if os.path.exists(config_dir):
        shutil.rmtree(config_dir)
    os.makedirs(config_dir, 0o700)
    saved = {}
    for index, path in enumerate(paths):
        copy = os.path.join(config_dir, "%02d-%s" % (index, os.path.basename(path)))
        if os.path.isdir(path):
            shutil.copytree(path, copy, symlinks=True)
        elif os.path.exists(path):
            shutil.copy2(path, copy)
        saved[path] = copy if os.path.exists(path) else None
    vg = params["target_vg"]
    direct = params["target"] == "direct_lvm"
    new = MigrationState.new(
        STEP_NAMES, params, checked["source"], checked["inventory"], saved,
        created_vg=direct and not host.vg_exists(vg),
        lvs_before=host.lv_names(vg) if direct else [],
        docker_active=checked["docker_active"],
        attempt=(state.data.get("attempt", 1) + 1) if state else 1)
    host.save_state(new)
    if host.install_hold():
        host.did("write %s (inert until %s exists); systemctl daemon-reload"
                 % (", ".join(host.hold_drop_in(u) for u in DOCKER_UNITS), host.hold_flag),
                 "the stop step holds Docker by making a file, without a reload while Docker "
                 "is down")
    return {"changed": True, "inventory": checked["inventory"]}


def run_registered(host, state, step, result):
    """A registered step: plan, then (not in check mode) apply, reach the fault point, record."""
    if state is None or state.phase != PHASE_MIGRATING:
        raise ModuleError("step: no migration under way (%s); run step=begin first"
                          % host.params["state_file"])
    if state.is_done(step):
        return {"changed": False}
    missing = state.missing_before(step)
    if missing:
        raise ModuleError("step: %s needs %s first" % (step, ", ".join(missing)))
    planner = PLANNERS.get(step)
    actions = planner(host, state, result) if planner else []
    host.actions.extend(a.to_dict() for a in actions)
    if host.check_mode:
        return {"changed": True}
    apply_plan(actions)
    host.fault(step)
    state.mark_done(step, at=time.time())
    host.save_state(state)
    return {"changed": True}


def remove_backup(host):
    removed = []
    for path in (host.docker_backup, host.docker_archive, host.export_dir, host.path("config"),
                 host.backup_manifest):
        if os.path.lexists(path):
            removed.append(path)
            host.did("remove %s" % path, "the backup of a verified migration")
            if not host.check_mode:
                remove_on_one_device(path)
    return removed


def finish(host, state):
    result = {}
    if state.phase != PHASE_COMPLETE:
        missing = state.missing_before("verify") + ([] if state.is_done("verify") else ["verify"])
        if missing:
            raise ModuleError("finish: steps %s are not done" % ", ".join(missing))
        host.did("mark the migration complete", "every step is done and verified")
        if not host.check_mode:
            state.complete()
            host.save_state(state)
    if host.params["remove_backup"]:
        result["removed"] = remove_backup(host)
    else:
        result["kept"] = [p for p in (host.docker_backup, host.docker_archive, host.export_dir)
                          if os.path.exists(p)]
    if state.data["source"].get("pool_backend") == "loop" and state.data["target"] == "direct_lvm":
        result["left_in_place"] = ("the old loop pool's files (see pool %s's loop devices before "
                                   "the migration); delete them when the backup is no longer "
                                   "needed" % state.data["source"]["pool"])
    result["changed"] = bool(host.actions)
    return result


def dispatch(host, state, step):
    params = host.params
    if step == "status":
        return checks.status(host, state)
    if step == "preflight":
        return checks.preflight(host)
    if step == "begin":
        return begin(host, state)
    if step == "finish":
        if state is None:
            raise ModuleError("step: no migration recorded in %s" % params["state_file"])
        return finish(host, state)
    if step == "rollback":
        result = rollback(host, state)
        result.setdefault("changed", bool(host.actions))
        return result
    if step == "record":
        return run_registered(host, state, params["name"], {})
    result = {"changed": False}
    last = params["through"] or step
    if STEP_NAMES.index(last) < STEP_NAMES.index(step):
        raise ModuleError("through: %s comes before step %s" % (last, step))
    for name in STEP_NAMES[STEP_NAMES.index(step):STEP_NAMES.index(last) + 1]:
        if name in ROLE_STEPS:
            raise ModuleError("through: step %s is the role's (record it), so %s..%s cannot "
                              "run in one call" % (name, step, last))
        result["changed"] = run_registered(host, state, name, result)["changed"] or \
            result["changed"]
        if host.check_mode:
            break           # the next steps' plans would read what this one has not done
    return result


def run_module(module):
    params = check_inputs(module.params, MIGRATION_INPUTS)
    check_files(params, "switch_files")
    host = MigrationHost(module, STEP_NAMES)
    state = host.load_state()
    step = params["step"]
    try:
        result = dispatch(host, state, step)
    except (IOError, OSError) as exc:
        # a rename across filesystems, of a mount point, a full disk: said, not a traceback
        raise ModuleError("step %s: %s%s" % (
            step, exc.strerror or exc, " (%s)" % exc.filename if exc.filename else ""),
            actions_done=host.actions)
    state = host.load_state()
    result["state"] = state.to_dict() if state else None
    result["next_step"] = state.next_step() if state and state.phase == PHASE_MIGRATING else None
    result["downtime_seconds"] = state.downtime if state else None
    result.setdefault("plan", None)
    result["actions"] = host.actions
    return result
