# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bad_input: the modules' rules for paths, sizes and names (module_utils/inputs.py), for the
roles, whose first task refuses bad values with messages that name the role variable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.devmapper.storage.plugins.module_utils.inputs import KINDS, problems


def input_entries(inputs):
    """(variable, kind[, block variable]) of a role's ``inputs`` mapping: each variable's kind,
    or ``{kind: ..., block: variable}`` for pool data that must hold one block of another's size."""
    entries = []
    for name, spec in inputs.items():
        kind, block = (spec, None) if isinstance(spec, str) else (spec["kind"], spec.get("block"))
        if kind not in KINDS:
            raise AnsibleFilterError("bad_input: %s has no kind %r; the kinds are %s"
                                     % (name, kind, ", ".join(KINDS)))
        entries.append((name, kind, block) if block else (name, kind))
    return entries


def bad_input(inputs, values):
    """The problems of ``values`` (the variables' values, in the order of ``inputs``, or a
    mapping of them), each a message that starts with the variable's name; [] when all are
    good."""
    if not isinstance(values, dict):
        values = dict(zip(inputs, values))
    return problems(input_entries(inputs), values)


class FilterModule(object):
    def filters(self):
        return {"bad_input": bad_input}
