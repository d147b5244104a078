# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""managed_files: the files a role owns whole (settings, scripts, units, drop-ins), put right in
one module run. A file whose content or mode differs from what is wanted is written again
atomically (runners.WriteFileAction: a temporary file in its directory, renamed over it), its
directory made first; the others are left alone.

Why a module of its own: a copy or template task runs Python on the host twice even when nothing
changes (stat, then file or copy), and about 2 s per run on a slow host; a role with five files
paid that ten times on every full run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, WriteFileAction)


def parse_mode(option, text):
    """An octal mode given as text ('0644'); a ModuleError naming ``option`` otherwise."""
    try:
        mode = int(text, 8)
    except (TypeError, ValueError):
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise ModuleError("%s: %r is not an octal mode such as '0644'" % (option, text))
    return mode


def check_params(params, option="files"):
    """The wanted files (``params[option]``) as [{path, content, mode (int)}]; refuses relative
    or repeated paths and modes that are not octal, naming the entry."""
    wanted, seen = [], set()
    for index, entry in enumerate(params[option] or []):
        path, name = entry["path"], "%s[%d]" % (option, index)
        if not os.path.isabs(path) or path.endswith("/"):
            raise ModuleError("%s.path: %r is not an absolute path of a file" % (name, path))
        if os.path.normpath(path) in seen:
            raise ModuleError("%s.path: %s is given twice" % (name, path))
        seen.add(os.path.normpath(path))
        wanted.append({"path": os.path.normpath(path), "content": entry["content"],
                       "mode": parse_mode(name + ".mode", entry["mode"])})
    return wanted


def read_files(wanted):
    """{path: {"content", "mode"}} of each wanted path that is a regular file now; a path that is
    something else (a directory, a link) is refused rather than replaced."""
    found = {}
    for entry in wanted:
        path = entry["path"]
        if os.path.islink(path) or (os.path.exists(path) and not os.path.isfile(path)):
            raise ModuleError("files: %s is not a regular file; it is left as it is" % path)
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                # bytes that are not UTF-8 (a hand edit) differ from any wanted content: the
                # file is written again, not a UnicodeDecodeError
                content = handle.read().decode("utf-8", "replace")
            found[path] = {"content": content, "mode": stat.S_IMODE(os.stat(path).st_mode)}
    return found


def why_written(entry, current):
    if current is None:
        return "%s does not exist" % entry["path"]
    if current["content"] != entry["content"]:
        return "%s has other content" % entry["path"]
    if current["mode"] != entry["mode"]:
        return "%s has mode %04o, wanted %04o" % (entry["path"], current["mode"], entry["mode"])
    return None


def plan_files(module, wanted, found):
    """A WriteFileAction for each wanted file that is missing or differs."""
    actions = []
    for entry in wanted:
        why = why_written(entry, found.get(entry["path"]))
        if why:
            actions.append(WriteFileAction(module, entry["path"], entry["content"], why,
                                           mode=entry["mode"]))
    return actions


def predicted(wanted):
    return dict((e["path"], {"content": e["content"], "mode": e["mode"]}) for e in wanted)


def files_diff(actions, before, after):
    """One diff per file written (or to be written in check mode)."""
    diffs = []
    for action in actions:
        old, new = before.get(action.path), after.get(action.path)
        diffs.append({"before_header": action.path, "after_header": action.path,
                      "before": _shown(old), "after": _shown(new)})
    return diffs


def _shown(state):
    if state is None:
        return ""
    return "# mode %04o\n%s" % (state["mode"], state["content"] or "")
