# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_daemon_config: Docker's daemon.json merged, never clobbered. The settings given replace
their own top-level keys; every other key of the file stays as it is, in its place. The file is
written (atomically, the old one kept as a backup) only when the merged object differs from the
file's, so a file laid out by hand is not rewritten for its layout alone.

Why a module: reading, parsing and writing the file with stat, slurp and copy tasks ran Python on
the host four or five times per full run, about 2 s each on a slow host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import os

from ansible_collections.devmapper.storage.plugins.module_utils.managed_files import parse_mode
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, WriteFileAction)


def check_params(params):
    if not os.path.isabs(params["path"] or "") or params["path"].endswith("/"):
        raise ModuleError("path: must be the absolute path of a file, got %r" % (params["path"],))
    if not isinstance(params["settings"], dict):
        raise ModuleError("settings: must be a dictionary of daemon.json keys, got %r"
                          % (params["settings"],))
    return parse_mode("mode", params["mode"])


def parse_config(path, data):
    """The file's object (key order kept); an empty file is ``{}``, as dockerd reads it.
    Anything else that is not a JSON object is refused: dockerd would not start with it either,
    and a merge would have to guess."""
    try:
        text = data.decode("utf-8")
        if not text.strip():
            return collections.OrderedDict()
        config = json.loads(text, object_pairs_hook=collections.OrderedDict)
    except ValueError as exc:       # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModuleError("path: %s cannot be merged: it is not a JSON object (%s). Fix it by "
                          "hand; nothing was changed." % (path, exc))
    if not isinstance(config, dict):
        raise ModuleError("path: %s cannot be merged: it is not a JSON object (it holds a %s). "
                          "Fix it by hand; nothing was changed." % (path, type(config).__name__))
    return config


def read_config(path):
    """{"exists", "config"} of the file now; a path that is not a regular file is refused."""
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
        raise ModuleError("path: %s is not a regular file; it is left as it is" % path)
    if not os.path.exists(path):
        return {"exists": False, "config": collections.OrderedDict()}
    with open(path, "rb") as handle:
        return {"exists": True, "config": parse_config(path, handle.read())}


def merged(config, settings):
    wanted = collections.OrderedDict(config)
    wanted.update(settings)
    return wanted


def render(config):
    return json.dumps(config, indent=2, separators=(",", ": ")) + "\n"


def why_written(current, wanted):
    if not current["exists"]:
        return "%s does not exist" if wanted else None
    keys = [k for k in wanted if current["config"].get(k, KeyError) != wanted[k]]
    if not keys:
        return None
    return "%%s: %s differ%s" % (", ".join(keys), "s" if len(keys) == 1 else "")


class BackupAction(object):
    """The old file copied beside itself (AnsibleModule.backup_local names the copy) before it
    is written again."""

    def __init__(self, module, path):
        self.module = module
        self.path = path
        self.backup_file = None

    @property
    def command(self):
        return "back up %s" % self.path

    def to_dict(self):
        return {"cmd": self.command, "why": "keep the file as it was"}

    def apply(self):
        self.backup_file = self.module.backup_local(self.path)


def plan_config(module, path, settings, mode, backup, current):
    wanted = merged(current["config"], settings)
    why = why_written(current, wanted)
    if why is None:
        return []
    actions = [BackupAction(module, path)] if backup and current["exists"] else []
    return actions + [WriteFileAction(module, path, render(wanted), why % path, mode=mode)]


def config_diff(path, before, after):
    return {"before_header": path, "after_header": path,
            "before": render(before["config"]) if before["exists"] else "",
            "after": render(after["config"]) if after["exists"] else ""}
