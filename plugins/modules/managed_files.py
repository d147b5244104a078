#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: managed_files
short_description: Files a role owns whole, each written atomically when it differs
version_added: 0.1.0
description:
  - Puts several files in place in one run. Each file whose content or mode differs from
    O(files) is written to a temporary file in its directory and renamed over the old one (a
    reader sees the old file or the new one, never a part), its directory made first (mode 0755).
    Files that already match are left alone.
  - For files the collection owns whole, such as the pool activation role's settings, script,
    unit and drop-ins. Files that users edit too (daemon.json) are merged by their roles instead.
  - Refuses a path that is a directory or a symbolic link, and changes nothing then.
extends_documentation_fragment:
  - devmapper.storage.common
  - devmapper.storage.option_names
  - devmapper.storage.host_lock
attributes:
  check_mode:
    description: Reports each file it would write, and why, in RV(actions), and writes none.
  diff_mode:
    description: Shows each file written (or to be written), its mode first, before and after.
options:
  files:
    description: The files.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file.
        type: str
        required: true
      content:
        description: The whole content.
        type: str
        required: true
      mode:
        description: Octal mode, as a string.
        type: str
        default: "0644"
"""

EXAMPLES = r"""
- name: The pool's settings and the engine's drop-in
  devmapper.storage.managed_files:
    files:
      - path: /etc/devmapper-storage/pools/docker-thinpool.conf
        content: "{{ lookup('ansible.builtin.template', 'pool.conf.j2') }}"
      - path: /etc/systemd/system/docker.service.d/10-devmapper-pool.conf
        content: "{{ lookup('ansible.builtin.template', 'engine-dropin.conf.j2') }}"
"""

RETURN = r"""
actions:
  description: Each file written (or to be written in check mode), with why.
  type: list
  elements: dict
  returned: always
  sample: [{"cmd": "write /etc/devmapper-storage/pools/docker-thinpool.conf",
            "why": "/etc/devmapper-storage/pools/docker-thinpool.conf does not exist"}]
written:
  description: The paths of the files written (or to be written in check mode).
  type: list
  elements: str
  returned: always
"""

import functools

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.devmapper.storage.plugins.module_utils.host.lock import LOCK_ARGS
from ansible_collections.devmapper.storage.plugins.module_utils.managed_files import (
    check_params, files_diff, plan_files, predicted, read_files)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    OPTION_NAMES_ARGS, converge, exit_module, outcome)


def run_module(module):
    wanted = check_params(module.params)
    done = converge(module, functools.partial(read_files, wanted),
                    functools.partial(plan_files, module, wanted),
                    predict=lambda before: dict(before, **predicted(wanted)))
    result = outcome(done.actions, written=[a.path for a in done.actions])
    if module._diff:
        result["diff"] = files_diff(done.actions, done.before, done.after)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dict(LOCK_ARGS, **OPTION_NAMES_ARGS),
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="str", required=True),
                content=dict(type="str", required=True),
                mode=dict(type="str", default="0644"),
            )),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
