# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lock every module that changes the host takes (module_utils/host/lock.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  lock_timeout:
    description:
      - Outside check mode the module reads, plans and changes the host holding the host's lock
        (C(/run/devmapper-storage/host.lock), which the pool activation script takes too), so
        that two runs at once take turns. A second run waits up to this many seconds, then fails
        naming the holder, having changed nothing.
      - Set it for a whole play with C(module_defaults) of the group
        C(group/devmapper.storage.changes_host).
    type: int
    default: 300
"""
