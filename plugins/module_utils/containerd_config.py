# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's configuration for the devmapper snapshotter, merged, never clobbered.

The snapshotter's table lives in a file of its own that the main file imports (``imports``), so
the main file changes by one line: containerd 1.6 and 1.7 replace a plugin's whole table with an
imported one, which is right for a table the collection owns and wrong for any other. The CRI
default snapshotter, when asked for, is one key set in the main file's own CRI table for the same
reason. The main file is edited as text (no TOML library on the targets' Pythons before 3.11):
what is read is the ``version`` and ``imports`` keys before the first table and the table headers;
containerd itself (``containerd config dump``) then says whether the edited file is valid and what
it means, and the dumps before and after must differ only where the collection writes.

The schema follows the file's own ``version``: 1 (no key; containerd 1.x), 2 (containerd 1.x),
3 (containerd 2.x). Everything here is pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

DEVMAPPER_V2 = "io.containerd.snapshotter.v1.devmapper"
# per version: the devmapper table, and the table and key of the CRI default snapshotter
SCHEMA = {
    1: {"devmapper": ("plugins", "devmapper"), "cri": ("plugins", "cri", "containerd")},
    2: {"devmapper": ("plugins", DEVMAPPER_V2),
        "cri": ("plugins", "io.containerd.grpc.v1.cri", "containerd")},
    3: {"devmapper": ("plugins", DEVMAPPER_V2), "cri": ("plugins", "io.containerd.cri.v1.images")},
}
# the snapshotter's settings, in containerd's names, and their TOML types
SETTINGS = (("pool_name", str), ("root_path", str), ("base_image_size", str),
            ("async_remove", bool), ("discard_blocks", bool), ("fs_type", str),
            ("fs_options", str))
HEADER = re.compile(r"^\s*\[(\[)?\s*(.+?)\s*\]\]?\s*(#.*)?$")
KEY_PART = re.compile(r"""\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*(\.|$)""")
TOP_KEY = re.compile(r"^\s*(version|imports)\s*=\s*(.*)$")


def header_keys(line):
    """The keys of a table header line (``[a."b.c".d]`` -> (a, b.c, d)); None for any other line,
    ("[[", keys) for an array of tables."""
    match = HEADER.match(line)
    if not match or line.lstrip().startswith("#"):
        return None
    keys, text, pos = [], match.group(2), 0
    while pos < len(text):
        part = KEY_PART.match(text, pos)
        if not part:
            return None
        key = part.group(1)
        keys.append(json.loads(key) if key.startswith('"') else key.strip("'"))
        pos = part.end()
    return ("[[",) + tuple(keys) if match.group(1) else tuple(keys)


def top_lines(lines):
    """Index of the first table header (the end of the top-level keys)."""
    for index, line in enumerate(lines):
        if header_keys(line) is not None:
            return index
    return len(lines)


def _top_value(lines, key):
    """(first, last, value text) of a top-level key's assignment, or None; an array may span
    lines."""
    for index, line in enumerate(lines[:top_lines(lines)]):
        match = TOP_KEY.match(line)
        if match and match.group(1) == key:
            value, last = match.group(2), index
            while value.count("[") > value.count("]") and last + 1 < len(lines):
                last += 1
                value += "\n" + lines[last]
            return index, last, value
    return None


def config_version(text):
    """The file's schema version: its top-level ``version`` key, 1 without one."""
    found = _top_value(text.splitlines(), "version")
    if found is None:
        return 1
    number = re.match(r"\s*(\d+)\s*(#.*)?$", found[2])
    if not number or int(number.group(1)) not in SCHEMA:
        raise ModuleError("path: version = %s is not a containerd configuration version this "
                          "module knows (1, 2, 3)" % found[2].strip())
    return int(number.group(1))


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)        # a TOML basic string is a JSON string


def toml_header(keys):
    return "[%s]" % ".".join(k if re.match(r"^[A-Za-z0-9_-]+$", k) else json.dumps(k)
                             for k in keys)


def render_dropin(version, settings):
    """The file that holds the devmapper table alone, in the schema of ``version``."""
    lines = ["# Managed by devmapper.storage (containerd_config): the devmapper snapshotter's",
             "# table, imported by the main configuration file."]
    if version > 1:
        lines.append("version = %d" % version)
    lines += ["", toml_header(SCHEMA[version]["devmapper"])]
    lines += ["  %s = %s" % (name, toml_value(settings[name])) for name, dummy in SETTINGS
              if settings.get(name) is not None]
    return "\n".join(lines) + "\n"


def with_import(text, path):
    """The main file with ``path`` in its top-level ``imports`` (added after ``version``)."""
    lines = text.splitlines()
    found = _top_value(lines, "imports")
    if found is None:
        version = _top_value(lines, "version")
        at = version[1] + 1 if version else 0
        return "\n".join(lines[:at] + ['imports = [%s]' % json.dumps(path)] + lines[at:]) + "\n"
    first, last, value = found
    items = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'', value.split("#")[0] if
                       "\n" not in value else value)
    paths = [double or single for double, single in items]
    if path in paths:
        return text
    paths.append(path)
    line = "imports = [%s]" % ", ".join(json.dumps(p) for p in paths)
    return "\n".join(lines[:first] + [line] + lines[last + 1:]) + "\n"


def with_cri_snapshotter(text, version, snapshotter="devmapper"):
    """The main file with the CRI default snapshotter set in its own CRI table (made at the end
    when the file has none)."""
    lines = text.splitlines()
    table = SCHEMA[version]["cri"]
    start = [i for i, line in enumerate(lines) if header_keys(line) == table]
    setting = "snapshotter = %s" % json.dumps(snapshotter)
    if not start:
        return "\n".join(lines + ["", toml_header(table), "  " + setting]) + "\n"
    begin = start[0] + 1
    end = begin + top_lines(lines[begin:])
    for index in range(begin, end):
        match = re.match(r"^(\s*)snapshotter\s*=", lines[index])
        if match:
            if lines[index].strip() == setting:
                return text
            return "\n".join(lines[:index] + [match.group(1) + setting] + lines[index + 1:]) + "\n"
    indent = re.match(r"^(\s*)", lines[begin] if begin < end else "  ").group(1) or "  "
    return "\n".join(lines[:begin] + [indent + setting] + lines[begin:]) + "\n"


def sections(dump):
    """A ``containerd config dump`` as {table keys: [its own lines]}; () holds the top level."""
    found, current = {(): []}, ()
    for line in dump.splitlines():
        keys = header_keys(line)
        if keys is not None:
            current = keys
            found.setdefault(current, [])
        elif line.strip():
            found[current].append(line.strip())
    return found


def changed_elsewhere(before, after, version, cri):
    """The tables whose meaning changed between two dumps beyond what the collection writes (the
    devmapper table, ``imports``, and the CRI snapshotter key when ``cri``)."""
    old, new = sections(before), sections(after)
    ours = SCHEMA[version]
    changed = []
    for keys in sorted(set(old) | set(new)):
        a, b = old.get(keys, []), new.get(keys, [])
        if keys == ours["devmapper"]:
            continue
        if keys == ():
            a = [x for x in a if not x.startswith("imports")]
            b = [x for x in b if not x.startswith("imports")]
        if cri and keys == ours["cri"]:
            a = [x for x in a if not x.startswith("snapshotter ")]
            b = [x for x in b if not x.startswith("snapshotter ")]
        if a != b:
            changed.append(".".join(keys) or "(top level)")
    return changed


def absolute_imports(text, base):
    """The main file with its relative ``imports`` made absolute (containerd resolves them against
    the main file's directory), for a copy read from elsewhere."""
    lines = text.splitlines()
    found = _top_value(lines, "imports")
    if found is None:
        return text
    first, last, value = found
    items = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'', value)
    paths = [p if p.startswith("/") else base.rstrip("/") + "/" + p
             for p in (d or s for d, s in items)]
    line = "imports = [%s]" % ", ".join(json.dumps(p) for p in paths)
    return "\n".join(lines[:first] + [line] + lines[last + 1:]) + "\n"


def wanted_files(current, params):
    """(main file text, drop-in text) as the run leaves them."""
    main = with_import(current["text"], params["dropin_path"])
    if params["cri_default_snapshotter"]:
        main = with_cri_snapshotter(main, current["version"])
    return main, render_dropin(current["version"], params)


def judge_candidate(current, params, candidate_dump):
    """Refuse a merge that containerd reads differently than planned: another table changed, or
    the devmapper table not what was written (a second table of the same name elsewhere)."""
    ok, dump = candidate_dump
    if not ok:
        raise ModuleError("path: with the devmapper table imported, containerd cannot read %s: "
                          "%s. Nothing was changed." % (params["path"], dump))
    others = changed_elsewhere(current["dump"], dump, current["version"],
                               params["cri_default_snapshotter"])
    if others:
        raise ModuleError("path: importing the devmapper table would change other settings of "
                          "%s (%s); containerd merges an imported table over the main file's. "
                          "Nothing was changed." % (params["path"], ", ".join(others)))
    table = sections(dump).get(SCHEMA[current["version"]]["devmapper"], [])
    read = [re.sub(r"^pool_name\s*=\s*", "", x).strip("'\"") for x in table
            if re.match(r"pool_name\s*=", x)]
    if read != [params["pool_name"]]:
        raise ModuleError("path: containerd reads pool_name of the devmapper snapshotter as %s, "
                          "not %s, from the merged files. Nothing was changed."
                          % (json.dumps(read[0]) if read else "unset",
                             json.dumps(params["pool_name"])))


def dump_value(dump, keys, name):
    """A string setting as containerd read it (its dump), '' when unset."""
    for line in sections(dump).get(tuple(keys), []):
        match = re.match(r"^%s\s*=\s*(.*)$" % re.escape(name), line)
        if match:
            return match.group(1).strip().strip("'\"")
    return ""


def snapshotter_root(dump, version, root_path=None):
    """The snapshotter's state directory: ``root_path`` as given or read, else containerd's
    default (its root directory + the plugin's id)."""
    root_path = root_path or dump_value(dump, SCHEMA[version]["devmapper"], "root_path")
    if root_path:
        return root_path
    root = dump_value(dump, (), "root") or "/var/lib/containerd"
    return root.rstrip("/") + "/" + DEVMAPPER_V2


def judge_pool(current, params):
    """Refuse, without force, to give the snapshotter a pool its state does not describe: another
    pool than the one its state was made on, or a pool holding thin devices while no state
    exists (an ex-Docker pool, or a pool whose root_path was deleted), whose ids would collide
    with the snapshotter's own."""
    if params["force"]:
        return
    old = current["configured_pool"]
    if old and old != params["pool_name"] and current["old_state"]:
        raise ModuleError("pool_name: containerd's devmapper snapshotter keeps the state of pool %s "
                          "in %s; pointing it at pool %s would leave that state naming devices "
                          "the new pool does not have. Move the state aside first (containerd "
                          "stopped), then set force=true. Nothing was changed."
                          % (old, current["old_state"], params["pool_name"]))
    if current["pool_ids"] and not current["new_state"]:
        raise ModuleError("pool_name: pool %s holds thin devices (ids %s) that no snapshotter state "
                          "knows (%s does not exist): a pool another engine used, or one whose "
                          "state was deleted. The snapshotter's own ids would collide with them. "
                          "Give it an empty pool, or set force=true. Nothing was changed."
                          % (params["pool_name"], ", ".join(str(i) for i in current["pool_ids"][:8])
                             + (", ..." if len(current["pool_ids"]) > 8 else ""),
                             current["new_state_path"]))
