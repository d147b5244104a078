# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a step's planner returns besides command Actions: a step done in Python."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.devmapper.storage.plugins.module_utils.runners import Step


class Do(Step):
    """A step done in Python: what it does (``command``), why, and the function that does it."""

    def __init__(self, command, why, function, *args):
        self.command = command
        self.why = why
        self.function = functools.partial(function, *args)

    def apply(self):
        return self.function()
