#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: lvm_thinpool_profile
short_description: Autoextend profile and dmeventd monitoring for an LVM thin pool
version_added: 0.1.0
description:
  - Writes an LVM metadata profile with C(thin_pool_autoextend_threshold) and
    C(thin_pool_autoextend_percent), attaches it to the pool, enables monitoring
    (C(lvchange --monitor y)) and checks that C(lvs -o seg_monitor) reads C(monitored).
  - Without monitoring, autoextend silently never happens; this module fails rather than leave
    a pool unmonitored, and says how to start dmeventd when it is not running.
  - O(state=absent) detaches the profile from the pool (the profile file stays for other pools).
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.host_lock
  - devmapper.storage.option_names
attributes:
  check_mode:
    description: Reports the steps it would take in RV(actions), and takes none.
  diff_mode:
    description: Shows the profile file's content and the pool's profile and monitoring before and after.
options:
  vg:
    description: Volume group of the pool.
    type: str
    required: true
  pool:
    description: The thin pool LV.
    type: str
    default: thinpool
  profile:
    description:
      - Profile name; the file is C(/etc/lvm/profile/NAME.profile).
      - Defaults to C(VG-POOL), which for Docker's runbook is V(docker-thinpool).
    type: str
  threshold:
    description:
      - Data usage in percent at which LVM extends the pool, 50 to 100. V(100) disables autoextend
        (RV(autoextend) is then false).
    type: int
    default: 80
  percent:
    description: By how much, in percent of its size, LVM extends the pool each time (0 to 100).
    type: int
    default: 20
  monitor:
    description: Enable dmeventd monitoring of the pool and check that it is on.
    type: bool
    default: true
  state:
    description: V(present) writes, attaches and monitors; V(absent) detaches the profile.
    type: str
    choices: [present, absent]
    default: present
seealso:
  - module: devmapper.storage.dm_thinpool
"""

EXAMPLES = r"""
- name: Autoextend at 80 % by 20 %, as Docker's runbook sets it
  devmapper.storage.lvm_thinpool_profile:
    vg: docker
    pool: thinpool

- name: Detach the profile
  devmapper.storage.lvm_thinpool_profile:
    vg: docker
    pool: thinpool
    state: absent
"""

RETURN = r"""
profile_path:
  description: The profile file.
  returned: always
  type: str
  sample: /etc/lvm/profile/docker-thinpool.profile
autoextend:
  description: Whether the profile lets LVM extend the pool (threshold below 100).
  returned: always
  type: bool
  sample: true
monitored:
  description: Whether dmeventd monitors the pool after the run (before it, in check mode).
  returned: always
  type: bool
  sample: true
attached_profile:
  description: The profile attached to the pool after the run (before it, in check mode).
  returned: always
  type: str
  sample: docker-thinpool
actions:
  description: The steps taken (or, in check mode, that would be taken), in order, each with why.
  returned: always
  type: list
  elements: dict
  sample: [{"cmd": "write /etc/lvm/profile/docker-thinpool.profile",
            "why": "autoextend at 80% by 20%"}]
"""

import functools

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.lvm_profile import (
    ProfileIO, check_monitored, plan_read_profile, profile_diff, profile_report,
    read_profile_state, validate_params)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)


def run_module(module):
    params = validate_params(dict(module.params))
    io = ProfileIO(module)
    done = converge(module, functools.partial(read_profile_state, io, params),
                    functools.partial(plan_read_profile, io, params))
    if done.actions and not module.check_mode:
        check_monitored(params, done.after, done.actions)
    result = outcome(done.actions, **profile_report(params, done.after))
    if module._diff:
        result["diff"] = profile_diff(params, done.before, done.after)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            vg=dict(type="str", required=True),
            pool=dict(type="str", default="thinpool"),
            profile=dict(type="str"),
            threshold=dict(type="int", default=80),
            percent=dict(type="int", default=20),
            monitor=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
