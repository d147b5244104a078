# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sparse backing files on loop devices: what is there now, and the plan to reach what is asked.

``LoopFileIO`` reads the machine (file sizes, blocks allocated, loop associations, holders);
``plan_loop_file`` is pure and decides the actions, so it is unit-tested without a kernel.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import copy
import os

from ansible_collections.devmapper.storage.plugins.module_utils.host.files import (
    free_bytes, mount_point)
from ansible_collections.devmapper.storage.plugins.module_utils.host.loop import LoopDevices
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
)
from ansible_collections.devmapper.storage.plugins.module_utils.sizes import (
    human, parse_size, rounded)

# the pool's two backing files, each named by its options: data_file/data_size, metadata_...
ROLES = ("data", "metadata")
# a pool needs one block of data (64K at the least) and 2M of metadata (module_utils/inputs.py)
LOOP_POOL_INPUTS = (("data_file", "path"), ("metadata_file", "path"),
                    ("data_size", "loop_data_size"), ("metadata_size", "loop_metadata_size"))


class LoopFileState(object):
    """One backing file as found: ``exists``, ``size``, ``allocated`` bytes, its ``loop`` device
    (or None), the loop's ``loop_size`` and the dm devices that hold it open (``holders``)."""

    def __init__(self, path, exists=False, size=None, allocated=None, loop=None, loop_size=None,
                 holders=None, is_regular=True, parent_exists=True):
        self.path = path
        self.exists = exists
        self.size = size
        self.allocated = allocated
        self.loop = loop
        self.loop_size = loop_size
        self.holders = holders or []
        self.is_regular = is_regular
        # a file to create needs its directory (the planner does not look at the disk)
        self.parent_exists = parent_exists

    def to_dict(self):
        return {"file": self.path, "exists": self.exists, "size": self.size,
                "allocated_bytes": self.allocated, "loop_device": self.loop,
                "loop_size": self.loop_size, "holders": self.holders}


class LoopFileIO(object):
    def __init__(self, module):
        self.module = module
        self.loop = LoopDevices(module)
        self.truncate = ToolRunner(module, "truncate")
        self.mkdir = ToolRunner(module, "mkdir")
        self.rm = ToolRunner(module, "rm")

    def associations(self):
        return self.loop.associations()

    @staticmethod
    def _sys_block(loop, *parts):
        return os.path.join("/sys/block", os.path.basename(loop), *parts)

    def read(self, path, associations, option="file"):
        state = LoopFileState(path, parent_exists=os.path.isdir(os.path.dirname(path) or "."))
        if os.path.lexists(path):
            if not os.path.exists(path):
                raise ModuleError("%s: %s is a symbolic link to %s, which leads to no file; "
                                  "fix or remove the link" % (option, path, os.readlink(path)))
            st = os.stat(path)
            state.exists = True
            state.is_regular = os.path.isfile(path)
            state.size = st.st_size
            state.allocated = st.st_blocks * 512
        state.loop = associations.get(os.path.realpath(path))
        if state.loop:
            try:
                with open(self._sys_block(state.loop, "size")) as handle:
                    state.loop_size = int(handle.read()) * 512
                state.holders = sorted(os.listdir(self._sys_block(state.loop, "holders")))
            except (IOError, OSError):
                pass
            state.holders = [self.dm_name(h) for h in state.holders]
        return state

    def dm_name(self, holder):
        try:
            with open(os.path.join("/sys/block", holder, "dm", "name")) as handle:
                return handle.read().strip()
        except (IOError, OSError):
            return holder


def plan_loop_file(io, role, current, want_size, state, force=False, remove_file=False):
    """Actions that take one backing file from ``current`` to the wanted state.

    ``role`` ("data_file" or "metadata_file") names the parameter in every refusal."""
    actions = []
    if state == "present":
        if current.exists and not current.is_regular:
            raise ModuleError("%s: %s exists and is not a regular file" % (role, current.path))
        if not current.exists:
            if want_size is None:
                raise ModuleError("%s: %s does not exist; give %s to create it"
                                  % (role, current.path, role.replace("_file", "_size")))
            if not current.parent_exists:
                raise ModuleError("%s: directory %s does not exist"
                                  % (role, os.path.dirname(current.path) or "."))
            actions.append(Action(io.truncate, ["--size", str(want_size), current.path],
                                  "create %s as a sparse file of %s" % (role, human(want_size))))
        elif want_size is not None and want_size < current.size:
            raise ModuleError(
                "%s: refusing to shrink %s from %s to %s: a thin pool cannot lose data blocks"
                % (role.replace("_file", "_size"), current.path, human(current.size),
                   human(want_size)), changed=False)
        elif want_size is not None and want_size > current.size:
            actions.append(Action(io.truncate, ["--size", str(want_size), current.path],
                                  "grow %s from %s to %s"
                                  % (role, human(current.size), human(want_size))))
            if current.loop:
                actions.append(io.loop.set_capacity(current.loop, "make %s see the new size of %s"
                                                    % (current.loop, role)))
        if not current.loop:
            actions.append(io.loop.attach(current.path, "attach %s to a free loop device" % role))
        elif current.loop_size is not None and current.exists and want_size is None \
                and current.loop_size < current.size:
            # the file grew behind our back (e.g. a truncate by hand): finish the job
            actions.append(io.loop.set_capacity(current.loop, "make %s see the new size of %s"
                                                % (current.loop, role)))
    elif state == "absent":
        if current.loop:
            if current.holders and not force:
                raise ModuleError(
                    "%s: %s (%s) is held open by %s; detaching it would pull the disk from under "
                    "a live pool. Remove the pool first, or set force=true to detach it anyway "
                    "(the kernel then detaches it when the last holder closes)"
                    % (role, current.loop, current.path, ", ".join(current.holders)))
            actions.append(io.loop.detach(current.loop, "detach %s from %s" % (current.loop, role)))
        if remove_file and current.exists:
            if not force:
                raise ModuleError("%s: removing %s destroys the pool's %s; set force=true to "
                                  "remove it" % (role, current.path, role.replace("_file", "")))
            actions.append(Action(io.rm, ["--", current.path], "remove %s" % role))
    return actions


def read_room(params):
    """{role: {"mount", "free"}}: the filesystem each file is on (or would be made on) and its
    free bytes (for unprivileged users, as statvfs counts them)."""
    return dict((role, {"mount": mount_point(params[role + "_file"]),
                        "free": free_bytes(params[role + "_file"])}) for role in ROLES)


def room_shortfall(params, current, room):
    """What the loop files may grow to beyond what their filesystem can give them, as a sentence
    naming the options; None when they fit. Per filesystem: the files' sparse sizes (wanted, or
    as they are) against its free bytes plus what the files already hold, less the reserve."""
    if params["state"] != "present":
        return None
    reserve = parse_size(params["free_space_reserve"], "free_space_reserve") \
        if params["free_space_reserve"] not in (None, "", "0") else 0
    mounts = collections.OrderedDict()
    for role in ROLES:
        size = params[role + "_size"]
        want = parse_size(size, role + "_size") if size is not None else current[role].size or 0
        entry = mounts.setdefault(room[role]["mount"], {"want": 0, "held": 0, "files": [],
                                                        "free": room[role]["free"]})
        entry["want"] += want
        entry["held"] += current[role].allocated or 0 if current[role].exists else 0
        entry["files"].append("%s %s" % (role + "_size", human(want)))
    for mount, entry in mounts.items():
        if entry["want"] > entry["free"] + entry["held"] - reserve:
            return ("free_space_action: the loop files (%s) may grow to %s on the filesystem of "
                    "%s, which has %s free and %s already in them%s; once it is full, the pool's "
                    "writes fail. Give smaller sizes, put the files on a larger filesystem, or "
                    "make room" % (", ".join(entry["files"]), rounded(entry["want"]), mount,
                                   rounded(entry["free"]), rounded(entry["held"]),
                                   ", and %s is to stay free (free_space_reserve)" % human(reserve)
                                   if reserve else ""))
    return None


def validate_files(params):
    """The two files' paths (loop_pool and loop_pool_info), checked before anything is read."""
    check_inputs(params, LOOP_POOL_INPUTS)
    if params["data_file"] == params["metadata_file"]:
        raise ModuleError("data_file and metadata_file must be different files")
    return params


def validate_params(params):
    validate_files(params)
    for role in ROLES:
        if params["state"] == "absent" and params[role + "_size"] is not None:
            raise ModuleError("%s_size makes no sense with state=absent" % role)
    return params


def read_pool_files(io, params):
    """{role: LoopFileState} of the pool's two files."""
    associations = io.associations()
    return dict((role, io.read(params[role + "_file"], associations, role + "_file"))
                for role in ROLES)


def plan_pool_files(io, params, current, room=None, warn=None):
    """The actions for both files. ``room`` (read_room's) and ``warn`` (a function): a pool whose
    files may outgrow their filesystem is warned of, or refused (free_space_action)."""
    shortfall = room_shortfall(params, current, room) if room is not None else None
    if shortfall and params["free_space_action"] == "refuse":
        raise ModuleError(shortfall + "; nothing was changed", changed=False)
    if shortfall and params["free_space_action"] == "warn" and warn is not None:
        warn(shortfall + " (free_space_action=refuse refuses such a pool)")
    actions = []
    if params["state"] == "present":
        # the files' directories, made first (0700: the pool's data is in them)
        for directory in sorted(set(os.path.dirname(current[r].path) for r in ROLES
                                    if not current[r].exists and not current[r].parent_exists)):
            actions.append(Action(io.mkdir, ["-p", "-m", "0700", directory],
                                  "make the directory %s" % directory))
        current = dict((r, copy.copy(current[r])) for r in ROLES)
        for role in ROLES:
            current[role].parent_exists = True
    for role in ROLES:
        size = params[role + "_size"]
        want = parse_size(size, role + "_size") if size is not None else None
        actions += plan_loop_file(io, role + "_file", current[role], want, params["state"],
                                  force=params["force"], remove_file=params["remove_files"])
    return actions


def predict_pool_files(params, before):
    """The state check mode reports as "after": what the plan would leave."""
    after = {}
    for role in ROLES:
        state = copy.copy(before[role])
        if params["state"] == "present":
            size = params[role + "_size"]
            if size is not None:
                state.size = state.loop_size = parse_size(size)
            state.exists = True
            state.loop = state.loop or "(a free loop device)"
        elif params["state"] == "absent":
            state.loop, state.loop_size, state.holders = None, None, []
            if params["remove_files"]:
                state.exists, state.size, state.allocated = False, None, None
        after[role] = state
    return after
