# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes of the modules that only read (the ``*_info`` modules). Listed before
devmapper.storage.common, whose defaults it overrides (the first fragment's values win)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Runs the same in check mode; it only reads.
  diff_mode:
    support: none
    description: It changes nothing.
"""
