#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: docker_storage_migration
short_description: The steps of moving Docker's images and volumes to other storage, recorded on the host
version_added: 0.1.0
description:
  - Carries out one O(step) of a migration of Docker's storage (loop-lvm to direct-lvm, or
    devicemapper to overlay2) and records it in a state file on the host, so that a run that is
    interrupted, even by a power cut, knows where it stands. The
    M(devmapper.storage.storage_migration) role runs the steps in order; the storage change itself
    (V(switch)) is done by the storage roles between them.
  - Nothing is ever deleted that is the only copy of some data. Images are exported with
    C(docker save) while Docker still runs. Then every running container is stopped (with its own
    stop timeout; with live-restore, stopping Docker alone would leave them running), Docker is
    held stopped, and the step refuses if anything is still mounted under O(docker_root).
    Docker's directory is moved aside (or archived, never across a mount) whole and stays until
    O(remove_backup); its volumes, as they were when their containers stopped, are renamed into
    the new directory (or left in place with O(backup_mode=archive)), so nothing written before
    the stop is left behind and nothing is copied while Docker is down.
  - Every container, running or stopped, is re-created on the new storage under its name from
    its own C(docker inspect) (its Config and HostConfig, through Docker's API), on the user-defined
    networks it was on (re-created too); a writable layer with changes travels as a committed
    image (C(devmapper-migration/layer:OLD_ID)), which is then the container's image. Those that
    ran are started again. Their ids change (RV(containers) maps old to new). A container that
    names another by id (C(--network container:ID), C(--pid), C(--ipc)) cannot be carried and is
    refused at V(preflight) unless O(drop_uncarriable_containers).
  - V(rollback) puts the old configuration files, Docker's directory and the old pool back and
    starts Docker as it was.
extends_documentation_fragment:
  - devmapper.storage.common
attributes:
  check_mode:
    description: V(status) and V(preflight) run as usual (they change nothing); other steps report
      what they would do and do none of it.
  diff_mode:
    support: none
    description: Each step reports what it did in RV(actions); the state file holds the rest.
options:
  step:
    description:
      - V(status) reads the state file. V(preflight) checks that the migration can run (Docker
        running on devicemapper, room for the backup) and changes nothing. V(begin) records the
        inventory and copies the configuration files.
      - V(export), V(stop_containers), V(stop), V(backup), V(carry_volumes), V(release_source),
        V(switch), V(start), V(import), V(recreate) and V(verify) are the migration's steps, in
        this order with V(prepare) (done by the role while Docker runs, the new pool made as
        O(staged_pool)) after V(export); V(record) records O(name).
        V(finish) marks the migration complete (and removes the backup when O(remove_backup));
        V(rollback) undoes it.
    type: str
    required: true
    choices: [status, preflight, begin, record, finish, rollback, export, stop_containers,
              stop, backup, carry_volumes, release_source, switch, start, import, recreate, verify]
  through:
    description:
      - With a migration step, also run the steps after it up to this one, in the same module run
        (each recorded as it is done, as when called one by one). The role runs the downtime,
        V(stop_containers) through V(import), in one call.
    type: str
    choices: [export, stop_containers, stop, backup, carry_volumes, release_source, switch, start,
              import, recreate, verify]
  name:
    description: With O(step=record), the step that was done (V(prepare)).
    type: str
    choices: [prepare]
  target:
    description: What Docker runs on afterwards.
    type: str
    choices: [direct_lvm, overlay2]
  backup_dir:
    description:
      - Where the export, the copies of the configuration files and the backup of Docker's directory
        go. With O(backup_mode=move) it must be on the filesystem of O(docker_root).
    type: path
    default: /var/lib/docker-migration
  backup_mode:
    description:
      - V(move) renames O(docker_root) into O(backup_dir) (instant, needs no room). V(archive)
        writes a tar of it to O(backup_dir) (any filesystem with room) and then empties it.
    type: str
    default: move
    choices: [move, archive]
  remove_backup:
    description: With O(step=finish), delete the backup once the migration is verified.
    type: bool
    default: false
  docker_root:
    description: Docker's data directory.
    type: path
    default: /var/lib/docker
  state_file:
    description: The state file.
    type: path
    default: /var/lib/devmapper-storage/migration.json
  config_paths:
    description: Configuration files and directories that the switch may change; copied at
      V(begin) and put back exactly (including absence) by V(rollback).
    type: list
    elements: path
    default: [/etc/docker/daemon.json, /etc/systemd/system/docker.service.d/10-devmapper-pool.conf,
              /etc/devmapper-storage/pools]
  target_vg:
    description: With O(target=direct_lvm), the VG the switch makes or uses; V(rollback) removes
      it when V(begin) found it absent.
    type: str
  target_pool:
    description: With O(target=direct_lvm), the pool LV the switch makes in O(target_vg);
      V(rollback) removes it (and nothing else) when V(begin) found the VG already there and
      without it.
    type: str
    default: thinpool
  staged_pool:
    description:
      - With O(target=direct_lvm), the name under which the pool was made in O(target_vg) while
        Docker ran (the old pool still holds the device name O(target_pool) gives it);
        V(switch) renames it to O(target_pool). Unset when the pool already has its name.
    type: str
  switch_files:
    description:
      - Files V(switch) writes (atomically, where they differ), such as the new pool's boot unit
        and settings and Docker's drop-in, as the storage roles render them. V(begin) copies what is
        at their paths for V(rollback).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      content:
        description: The whole content.
        type: str
        required: true
      mode:
        description: Octal mode, such as V('0644').
        type: str
        required: true
  switch_remove:
    description: Files V(switch) removes (Docker's drop-in that needs the pool, for
      O(target=overlay2)); V(begin) copies them for V(rollback).
    type: list
    elements: path
    default: []
  daemon_settings:
    description: Keys V(switch) merges into O(daemon_config_path) (every other key stays).
    type: dict
    default: {}
  daemon_config_path:
    description: Docker's daemon.json.
    type: path
    default: /etc/docker/daemon.json
  drop_uncarriable_containers:
    description: Leave behind (in the backup) the containers whose settings cannot be carried,
      instead of refusing the migration.
    type: bool
    default: false
  error:
    description: With O(step=rollback), what went wrong (kept in the state file).
    type: str
  fault_point:
    description:
      - For fault-injection tests only. V(hang:STEP) stops at STEP after its effect and before it
        is recorded, writes C(/run/devmapper-migration-fault) and waits (for a power cut);
        V(fail:STEP) fails there.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Where does this host's migration stand?
  devmapper.storage.docker_storage_migration:
    step: status
  register: migration

- name: Check that a move to overlay2 can run (changes nothing)
  devmapper.storage.docker_storage_migration:
    step: preflight
    target: overlay2
    backup_dir: /srv/docker-migration
"""

RETURN = r"""
state:
  description:
    - The state file's content after the step (null when there is none).
    - C(done) lists the steps done, in order; C(finished_at) maps each to the time it was
      recorded (seconds since the epoch); C(downtime_began_at) is when the first container (or
      Docker, when none ran) was stopped.
  returned: always
  type: dict
downtime_seconds:
  description: Seconds from the first container stop to Docker's start on the new storage
    (null until V(start) is done).
  returned: always
  type: float
  sample: 4.2
next_step:
  description: The first step not done yet (null when all are).
  returned: always
  type: str
plan:
  description: With O(step=status), what the role should do next.
  returned: always
  type: str
  sample: resume
inventory:
  description: With O(step=preflight) or O(step=begin), Docker's tagged images, containers
    and volumes.
  returned: when step is preflight or begin
  type: dict
space:
  description: With O(step=preflight), bytes needed and free per filesystem.
  returned: when step is preflight
  type: dict
actions:
  description: What the step did (or would do in check mode), each command and why.
  returned: always
  type: list
  elements: dict
verified:
  description: With O(step=verify), how many images, volumes and containers were found as they
    were.
  returned: when step is verify
  type: dict
containers:
  description: With O(step=verify), each re-created container's old and new id, by name.
  returned: when step is verify
  type: dict
  sample: {"web": {"old": "75a15ab686dc...", "new": "5a0e009270c2..."}}
dropped_containers:
  description: With O(step=recreate), the containers left behind (with
    O(drop_uncarriable_containers)) and the settings that could not be carried.
  returned: when step is recreate
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.devmapper.storage.plugins.module_utils.migration.run import (
    RECORD_CHOICES, STEP_CHOICES, THROUGH_CHOICES, run_module)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import exit_module


def main():
    module = AnsibleModule(
        argument_spec=dict(
            step=dict(type="str", required=True, choices=list(STEP_CHOICES)),
            name=dict(type="str", choices=list(RECORD_CHOICES)),
            target=dict(type="str", choices=["direct_lvm", "overlay2"]),
            backup_dir=dict(type="path", default="/var/lib/docker-migration"),
            backup_mode=dict(type="str", default="move", choices=["move", "archive"]),
            remove_backup=dict(type="bool", default=False),
            docker_root=dict(type="path", default="/var/lib/docker"),
            state_file=dict(type="path", default="/var/lib/devmapper-storage/migration.json"),
            config_paths=dict(type="list", elements="path",
                              default=["/etc/docker/daemon.json",
                                       "/etc/systemd/system/docker.service.d/10-devmapper-pool.conf",
                                       "/etc/devmapper-storage/pools"]),
            target_vg=dict(type="str"),
            target_pool=dict(type="str", default="thinpool"),
            staged_pool=dict(type="str"),
            through=dict(type="str", choices=list(THROUGH_CHOICES)),
            switch_files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True), content=dict(type="str", required=True),
                mode=dict(type="str", required=True))),
            switch_remove=dict(type="list", elements="path", default=[]),
            daemon_settings=dict(type="dict", default={}),
            daemon_config_path=dict(type="path", default="/etc/docker/daemon.json"),
            drop_uncarriable_containers=dict(type="bool", default=False),
            error=dict(type="str"),
            fault_point=dict(type="str", default=""),
        ),
        required_if=[("step", "record", ["name"])],
        supports_check_mode=True,
    )
    exit_module(module, run_module)


if __name__ == "__main__":
    main()
