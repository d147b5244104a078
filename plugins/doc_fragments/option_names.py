# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option of the modules a role calls with its users' variables: how refusals name them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  option_names:
    description:
      - The names the caller knows the options by, used in refusals and warnings instead of the
        options' own, so that a message names what its reader can set. A role passes its
        variables, for example C(force) as C(direct_lvm_force).
    type: dict
    default: {}
"""
