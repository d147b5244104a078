# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: the single record of where a host's migration stands. Every field is set here
and nowhere else.

A step is added to ``done`` only after its effect is on disk (synced), so a host that loses power
in the middle of a step redoes that step; every step is written so that doing it twice is
harmless. The order of the steps is the registry's (``steps.STEP_NAMES``), given to each state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

PHASE_MIGRATING = "migrating"
PHASE_ROLLING_BACK = "rolling_back"
PHASE_ROLLED_BACK = "rolled_back"
PHASE_COMPLETE = "complete"

STATE_VERSION = 2


def utc_stamp():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


class MigrationState(object):
    """The state file's content (``data``) and the order of the steps (``order``)."""

    def __init__(self, data, order):
        self.data = data
        self.order = tuple(order)

    @classmethod
    def new(cls, order, params, source, inventory, config_paths, created_vg, lvs_before,
            docker_active, attempt):
        """A migration that has begun: what it starts from, and what it must put back."""
        return cls({
            "version": STATE_VERSION, "phase": PHASE_MIGRATING, "target": params["target"],
            "backup_dir": params["backup_dir"], "backup_mode": params["backup_mode"],
            "source": source, "inventory": inventory, "config_paths": config_paths,
            "target_vg": params["target_vg"], "target_pool": params["target_pool"],
            "staged_pool": params["staged_pool"],
            "created_vg": created_vg, "lvs_before": lvs_before, "docker_active": docker_active,
            "started_at": utc_stamp(), "done": [], "error": None, "attempt": attempt,
        }, order)

    @property
    def phase(self):
        return self.data["phase"]

    @property
    def done(self):
        return list(self.data["done"])

    def is_done(self, step):
        return step in self.data["done"]

    def mark_done(self, step, at=None):
        """Record ``step`` as done; ``at`` (seconds since the epoch) goes to ``finished_at``,
        which is how an operator (and benchmarks/) sees how long Docker was down."""
        if step not in self.order:
            raise ValueError("unknown step %r" % step)
        if not self.is_done(step):
            self.data["done"].append(step)
            if at is not None:
                self.data.setdefault("finished_at", {})[step] = round(at, 3)

    def missing_before(self, step):
        """Steps that must be done before ``step`` and are not."""
        return [s for s in self.order[:self.order.index(step)] if not self.is_done(s)]

    def next_step(self):
        for step in self.order:
            if not self.is_done(step):
                return step
        return None

    def needs_rollback(self):
        """True once Docker has been stopped for the migration (its data may be out of place)."""
        return self.is_done("stop")

    # -- what the steps found, kept for the later steps and for rollback ----------------------
    def note_running(self, names):
        """Containers that ran when the stop step began (rollback starts them again)."""
        self.data["running_before_stop"] = sorted(set(self.data.get("running_before_stop", []))
                                                  | set(names))

    @property
    def running_before_stop(self):
        return list(self.data.get("running_before_stop", []))

    def note_downtime_began(self, at):
        """When the first container (or Docker, when none ran) was stopped: the downtime's
        start, kept from the first attempt of the step."""
        self.data.setdefault("downtime_began_at", round(at, 3))

    @property
    def downtime(self):
        """Seconds from the first stop to Docker's start on the new storage; None until then."""
        began, started = self.data.get("downtime_began_at"), \
            self.data.get("finished_at", {}).get("start")
        return round(started - began, 1) if began and started else None

    def note_archive(self, sha256):
        self.data["archive_sha256"] = sha256

    @property
    def archive_sha256(self):
        return self.data.get("archive_sha256")

    def note_carried_volumes(self, identities):
        """{volume: [st_dev, st_ino] of its data directory} once carried to the new root."""
        self.data["carried_volumes"] = identities

    @property
    def carried_volumes(self):
        return dict(self.data.get("carried_volumes") or {})

    def note_container(self, name, old_id, new_id):
        """A container re-created on the new storage: its old and new ids."""
        self.data.setdefault("container_ids", {})[name] = {"old": old_id, "new": new_id}

    def note_network(self, name, new_id, bridge):
        """A network re-created on the new storage, and its bridge (a rollback deletes it)."""
        self.data.setdefault("networks_made", {})[name] = {"id": new_id, "bridge": bridge}

    @property
    def networks_made(self):
        return dict(self.data.get("networks_made") or {})

    @property
    def container_ids(self):
        return dict(self.data.get("container_ids") or {})

    # -- transitions ------------------------------------------------------------------------------
    def complete(self):
        self.data["phase"] = PHASE_COMPLETE
        self.data["completed_at"] = utc_stamp()

    def begin_rollback(self, error):
        if self.phase != PHASE_ROLLING_BACK:
            self.data["phase"] = PHASE_ROLLING_BACK
            self.data["error"] = error or "rolled back on request"

    def rolled_back(self, files_verified):
        self.data["phase"] = PHASE_ROLLED_BACK
        self.data["rollback_files_verified"] = files_verified
        self.data["done"] = []
        self.data.pop("finished_at", None)
        self.data.pop("downtime_began_at", None)

    def to_dict(self):
        return dict(self.data)
