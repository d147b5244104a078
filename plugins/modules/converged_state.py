#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: converged_state
short_description: The roles' fast path - is this host still as a role last left it?
version_added: 0.1.0
description:
  - With O(state=check), one read-only look at the host answers whether a role that converged it
    earlier would change nothing now. The roles C(loop_lvm), C(direct_lvm) and C(docker_daemon)
    end early when it says so, which makes a no-op re-run of a fleet about one call per host.
  - The answer is yes only when the wanted state (O(fingerprint)) is the one recorded, the host
    looks exactly as recorded (O(files) checksums, O(sizes), pool tables, LVM pool attributes,
    unit states, Docker's driver and pool) and is healthy (pools active and writable, LVM pools
    monitored, no unit failed, Docker answering and given no storage flags by its unit).
    Otherwise C(reasons) says why, and the role runs in full.
  - With O(state=record), the role records what it left at the end of a full run.
extends_documentation_fragment:
  - devmapper.storage.common
attributes:
  check_mode:
    description: V(check) changes nothing in any mode; V(record) only reports in check mode.
  diff_mode:
    support: none
    description: The record is bookkeeping of the collection, not a setting of the host.
options:
  name:
    description: The record's name (one per role and pool), a file name under O(record_dir).
    type: str
    required: true
  state:
    description: V(check) compares; V(record) writes the record.
    type: str
    choices: [check, record]
    default: check
  fingerprint:
    description: The wanted state as one string (the roles hash every role option of the
      collection and the collection's code into it).
    type: str
    required: true
  files:
    description: Files whose content is compared by checksum (a file that is absent is recorded
      as absent).
    type: list
    elements: path
    default: []
  sizes:
    description: Files whose size is compared (the loop-lvm pool's sparse files).
    type: list
    elements: path
    default: []
  dm_pools:
    description: Device-mapper thin pools (by name) that must be active and writable; their table
      is compared without its device numbers.
    type: list
    elements: str
    default: []
  lvm_pools:
    description: LVM thin pools (V(VG/LV)) that must be active and monitored; their size,
      metadata size, chunk size, zeroing and profile are compared.
    type: list
    elements: str
    default: []
  units:
    description: systemd units that must not have failed; their enablement is compared.
    type: list
    elements: str
    default: []
  docker:
    description: What C(docker info) must report.
    type: dict
    suboptions:
      driver:
        description: The storage driver.
        type: str
        required: true
      pool:
        description: The pool name (empty or absent, not checked).
        type: str
      service:
        description: Docker's systemd unit, whose C(systemctl cat) must give dockerd no storage
          flags (they would stop its next start next to daemon.json's storage settings).
        type: str
        default: docker.service
  specs:
    description:
      - With O(state=record), several sets of O(files), O(sizes), O(dm_pools), O(lvm_pools),
        O(units) and O(docker) (dicts with those keys) instead of those options, recorded as one
        that compares everything each of them compares. C(site.yml) records the storage and Docker
        roles of a host together this way.
    type: list
    elements: dict
  recorded_spec:
    description:
      - With O(state=check), compare what the record itself lists (the files, pools, units and
        Docker storage it was written with) instead of options given here, so that one call
        checks what several roles left (C(site.yml)'s first play). A record that lists nothing
        (written by an older release) is not converged.
    type: bool
    default: false
  record_dir:
    description: Where the records are kept.
    type: path
    default: /var/lib/devmapper-storage/converged
"""

EXAMPLES = r"""
- name: Is the pool still as the role left it?
  devmapper.storage.converged_state:
    name: loop_lvm-docker-thinpool
    fingerprint: "{{ wanted | to_json | hash('sha256') }}"
    files: [/etc/devmapper-storage/pools/docker-thinpool.conf]
    sizes: [/var/lib/docker-loop/data, /var/lib/docker-loop/metadata]
    dm_pools: [docker-thinpool]
  register: converged

- name: Nothing to do here
  ansible.builtin.meta: end_role
  when: converged.converged
"""

RETURN = r"""
converged:
  description: Whether the host is as recorded, healthy, and wanted the same way (V(check)).
  returned: always
  type: bool
reasons:
  description: Why not (empty when converged; with V(record), why nothing was recorded).
  returned: always
  type: list
  elements: str
recorded:
  description: With V(record), whether a record was written (a host with problems gets none).
  returned: always
  type: bool
observed:
  description: What the host looks like now.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.observation import (
    HostObserver, check_params, checked, load_record, nothing_recorded, observe, record_path,
    recorded, wanted_spec)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import exit_module


def run_module(module):
    params = module.params
    check_params(params)
    path = record_path(params)
    record = load_record(path)
    if params["state"] == "check" and record is None:
        return nothing_recorded(params)
    spec, reasons = wanted_spec(params, record)
    if spec is None:
        return dict(nothing_recorded(params), reasons=reasons)
    observed, problems = observe(HostObserver(module), spec)
    if params["state"] == "check":
        return checked(params, record, observed, problems)
    return recorded(module, params, path, record, observed, problems, spec)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="check", choices=["check", "record"]),
            fingerprint=dict(type="str", required=True),
            files=dict(type="list", elements="path", default=[]),
            sizes=dict(type="list", elements="path", default=[]),
            dm_pools=dict(type="list", elements="str", default=[]),
            lvm_pools=dict(type="list", elements="str", default=[]),
            units=dict(type="list", elements="str", default=[]),
            docker=dict(type="dict", options=dict(driver=dict(type="str", required=True),
                                                  pool=dict(type="str"),
                                                  service=dict(type="str",
                                                               default="docker.service"))),
            specs=dict(type="list", elements="dict"),
            recorded_spec=dict(type="bool", default=False),
            record_dir=dict(type="path", default="/var/lib/devmapper-storage/converged"),
        ),
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
