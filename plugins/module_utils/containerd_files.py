# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd_config's reads and plan: the main file and the drop-in as they are, the files as
the run leaves them (containerd_config.py, pure), containerd's own reading of both, and the
writes. Before any write, copies of the files as they would be written go into the module's
temporary directory and containerd reads them (``config dump``): the plan is refused unless it
means exactly the devmapper table (and the CRI default snapshotter, when asked) more."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.devmapper.storage.plugins.module_utils.containerd_config import (
    SCHEMA,
    absolute_imports,
    config_version,
    dump_value,
    judge_candidate,
    judge_pool,
    snapshotter_root,
    wanted_files,
)
from ansible_collections.devmapper.storage.plugins.module_utils.host.dm import (
    DeviceMapper,
    metadata_path,
)
from ansible_collections.devmapper.storage.plugins.module_utils.daemon_config import BackupAction
from ansible_collections.devmapper.storage.plugins.module_utils.inputs import check_inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError,
    WriteFileAction,
)
from ansible_collections.devmapper.storage.plugins.module_utils.snapshotter_state import METASTORE

INPUTS = (("pool_name", "dm_name"),)


def check_params(params):
    check_inputs(params, INPUTS)
    for option in ("path", "dropin_path", "root_path"):
        if option == "root_path" and params[option] is None:
            continue            # containerd's default
        if not os.path.isabs(params[option] or "") or params[option].endswith("/"):
            raise ModuleError("%s: must be the absolute path of a file, got %r"
                              % (option, params[option]))
    if params["path"] == params["dropin_path"]:
        raise ModuleError("dropin_path: must differ from path")
    return params


def _read_text(option, path):
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        raise ModuleError("%s: %s is not a regular file; it is left as it is" % (option, path))
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8")
    except ValueError:
        raise ModuleError("%s: %s is not UTF-8 text, so not TOML. Nothing was changed."
                          % (option, path))


def _dump_of(module, io, text, name):
    """containerd's reading of ``text`` as a main file (written to the module's temporary
    directory, its relative imports made absolute)."""
    path = os.path.join(module.tmpdir, name)
    with open(path, "w") as handle:
        handle.write(text)
    return io.config_dump(path)


def read_files(io, params):
    main = _read_text("path", params["path"])
    dropin = _read_text("dropin_path", params["dropin_path"])
    if main is None:
        text = "version = %d\n" % (3 if io.major_version() >= 2 else 2)
        ok, dump = _dump_of(io.module, io, text, "new-config.toml")
    else:
        text = main
        ok, dump = io.config_dump(params["path"])
        if not ok:
            raise ModuleError("path: %s is not a configuration containerd can read: %s. Nothing "
                              "was changed." % (params["path"], dump))
    version = config_version(text)
    current = {"exists": main is not None, "text": text, "version": version, "dump": dump,
               "dropin": dropin}
    current.update(read_snapshotter(io, params, version, dump))
    return current


def read_snapshotter(io, params, version, dump):
    """The pool containerd is given now and its state; the asked pool's thin ids (read from its
    metadata device, without a message to the pool) and whether state exists for it."""
    old_root = snapshotter_root(dump, version)
    new_root = snapshotter_root(dump, version, params["root_path"])
    dm = DeviceMapper(io.module)
    pool = dm.read_thin_pool(params["pool_name"])
    ids = dm.thin_ids_in_metadata(metadata_path(pool["table"])) if pool else []
    old_state, new_state = [os.path.join(r, METASTORE) for r in (old_root, new_root)]
    return {"configured_pool": dump_value(dump, SCHEMA[version]["devmapper"], "pool_name"),
            "old_state": old_state if os.path.exists(old_state) else None,
            "new_state": os.path.exists(new_state), "new_state_path": new_state,
            "pool_ids": ids}


def plan_files(module, io, params, current):
    """(actions, diff): the drop-in first (the import never names a missing file), then the
    main file with its backup."""
    judge_pool(current, params)
    main, dropin = wanted_files(current, params)
    diff = {"before": {"path": current["text"] if current["exists"] else "",
                       "dropin_path": current["dropin"] or ""},
            "after": {"path": main, "dropin_path": dropin}}
    if current["exists"] and main == current["text"] and dropin == current["dropin"]:
        return [], diff
    candidate_dropin = os.path.join(module.tmpdir, "candidate-dropin.toml")
    with open(candidate_dropin, "w") as handle:
        handle.write(dropin)
    base = os.path.dirname(params["path"])
    candidate = wanted_files(dict(current, text=absolute_imports(current["text"], base)),
                             dict(params, dropin_path=candidate_dropin))[0]
    judge_candidate(current, params, _dump_of(module, io, candidate, "candidate-config.toml"))
    actions = []
    if dropin != current["dropin"]:
        actions.append(WriteFileAction(module, params["dropin_path"], dropin,
                                       "the devmapper snapshotter's table (pool %s)"
                                       % params["pool_name"]))
    if main != current["text"] or not current["exists"]:
        if current["exists"] and params["backup"]:
            actions.append(BackupAction(module, params["path"]))
        actions.append(WriteFileAction(module, params["path"], main,
                                       "import %s%s" % (params["dropin_path"],
                                                        "; devmapper as the CRI default "
                                                        "snapshotter"
                                                        if params["cri_default_snapshotter"]
                                                        else "")))
    return actions, diff
