# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fast_path_fingerprint
short_description: The wanted state of a host as one digest, for the roles' fast path
version_added: 0.1.0
description:
  - One SHA-256 digest of every option of every role of this collection (as set for the host,
    or unset) and of the collection's own code (its roles, modules and filters).
  - The roles record it when they converge a host and end early only while it stays the same, so
    changing any role variable, or upgrading the collection, makes the next run a full one.
  - An option whose value is computed from C(ansible_facts) (the package name by OS family)
    counts as its expression, not its value, since it follows the host and not the operator.
author:
  - devmapper.storage maintainers (@devmapper)
"""

EXAMPLES = r"""
- name: Is the host as the role last left it?
  devmapper.storage.converged_state:
    name: loop_lvm-docker-thinpool
    fingerprint: "{{ lookup('devmapper.storage.fast_path_fingerprint') }}"
"""

RETURN = r"""
_raw:
  description: The digest (hexadecimal).
  type: list
  elements: str
"""

import hashlib
import json
import os

import yaml

from ansible.plugins.lookup import LookupBase

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what decides what the roles do: their files, the modules they call and the filters they use
CODE_DIRS = ("roles", os.path.join("plugins", "modules"), os.path.join("plugins", "module_utils"),
             os.path.join("plugins", "filter"))
UNSET = "<unset>"


def code_files(root):
    paths = []
    for top in CODE_DIRS:
        for directory, dirs, names in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
            paths.extend(os.path.join(directory, name) for name in sorted(names)
                         if not name.endswith((".pyc", ".retry")) and not name.startswith("."))
    return paths


def code_digest(root):
    digest = hashlib.sha256()
    for path in code_files(root):
        digest.update(os.path.relpath(path, root).encode("utf-8") + b"\0")
        with open(path, "rb") as handle:
            digest.update(handle.read())
        digest.update(b"\0")
    return digest.hexdigest()


def role_options(root):
    """Every option of every entry point of every role (meta/argument_specs.yml), sorted; not the
    internal ones (``__ROLE_*``: the collection's own wiring between its roles, not a choice of
    the operator's, and different at each place a role is included)."""
    names = set()
    roles = os.path.join(root, "roles")
    for role in sorted(os.listdir(roles)) if os.path.isdir(roles) else []:
        path = os.path.join(roles, role, "meta", "argument_specs.yml")
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
        for entry in specs.values():
            names.update(name for name in (entry or {}).get("options") or {}
                         if not name.startswith("__"))
    return sorted(names)


def is_from_facts(raw):
    return isinstance(raw, str) and "{{" in raw and "ansible_facts" in raw


def fingerprint(code, values):
    """``values`` maps each role option to its value for the host (or UNSET)."""
    text = json.dumps({"code": code, "options": values}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        values = {}
        for name in role_options(COLLECTION):
            if name not in variables:
                values[name] = UNSET
                continue
            if is_from_facts(variables[name]):
                # derived from the host, not chosen by the operator; and facts come and go
                # between runs (a play that ends early gathers none)
                values[name] = variables[name]
                continue
            try:
                values[name] = self._templar.template(variables[name])
            except Exception as exc:  # an option that cannot be templated here is still a value
                values[name] = "<error: %s>" % exc
        return [fingerprint(code_digest(COLLECTION), values)]
