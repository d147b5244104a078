# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module of the collection documents alike: its authors, and the attributes' support
(a module states only what differs, and what its check and diff modes show)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
author:
  - devmapper.storage maintainers (@devmapper)
attributes:
  check_mode:
    support: full
    description: Says what would change, and changes nothing.
  diff_mode:
    support: full
    description: Shows what is before and after the change.
  platform:
    support: full
    platforms: posix
    description: >-
      Linux hosts with device-mapper; the tools each module runs (dmsetup, lvm2, losetup,
      thin-provisioning-tools, Docker) are found on the host's PATH, and a missing one is named
      in the module's failure.
"""
