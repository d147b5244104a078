# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration of Docker's storage is, without doing any of it: the steps, the state file
that records them, the inventory Docker's own JSON gives, the space a backup needs, and the
comparisons that prove nothing was lost.

The state file is the single record of where a host stands. A step is added to ``done`` only
after its effect is on disk (synced), so a host that loses power in the middle of a step redoes
that step; every step is written so that doing it twice is harmless.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# In order. The role runs the steps named here; `switch` and `start` are done by the storage roles
# and recorded through the module.
STEPS = ("export", "stop", "backup", "release_source", "switch", "start", "import", "restore",
         "verify")
# From this step on Docker's old data is out of place, so a failure must put it back.
FIRST_STEP_NEEDING_ROLLBACK = "stop"

PHASE_MIGRATING = "migrating"
PHASE_ROLLING_BACK = "rolling_back"
PHASE_ROLLED_BACK = "rolled_back"
PHASE_COMPLETE = "complete"

STATE_VERSION = 1

# The paths and names of docker_storage_migration, checked before anything is read
# (module_utils/inputs.py).
MIGRATION_INPUTS = (("backup_dir", "path"), ("docker_root", "path"), ("state_file", "path"),
                    ("config_paths", "path"), ("target_vg", "vg_name"))


class MigrationState(object):
    """The state file's content."""

    def __init__(self, data):
        self.data = data

    @classmethod
    def new(cls, target, backup_dir, backup_mode, source, inventory, config_paths, target_vg,
            created_vg, started_at):
        return cls({
            "version": STATE_VERSION, "phase": PHASE_MIGRATING, "target": target,
            "backup_dir": backup_dir, "backup_mode": backup_mode, "source": source,
            "inventory": inventory, "config_paths": config_paths, "target_vg": target_vg,
            "created_vg": created_vg, "started_at": started_at, "done": [], "error": None,
            "attempt": 1,
        })

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
        if step not in STEPS:
            raise ValueError("unknown step %r" % step)
        if not self.is_done(step):
            self.data["done"].append(step)
            if at is not None:
                self.data.setdefault("finished_at", {})[step] = round(at, 3)

    def missing_before(self, step):
        """Steps that must be done before ``step`` and are not."""
        return [s for s in STEPS[:STEPS.index(step)] if not self.is_done(s)]

    def next_step(self):
        for step in STEPS:
            if not self.is_done(step):
                return step
        return None

    def needs_rollback(self):
        """True once Docker has been stopped for the migration (its data may be out of place)."""
        return self.is_done(FIRST_STEP_NEEDING_ROLLBACK) or self.is_done("backup")

    def to_dict(self):
        return dict(self.data)


def image_inventory(inspected):
    """Tagged images from ``docker image inspect`` JSON: [{id, tags, size}], sorted by id.

    Untagged images are not exported (``docker save`` of an id alone loses nothing but makes
    an image nobody can name); they stay in the backup."""
    images = []
    for image in inspected:
        tags = sorted(t for t in (image.get("RepoTags") or []) if t and t != "<none>:<none>")
        if not tags:
            continue
        images.append({"id": image["Id"], "tags": tags, "size": int(image.get("Size") or 0)})
    return sorted(images, key=lambda i: i["id"])


def untagged_images(inspected):
    return sorted(i["Id"] for i in inspected
                  if not [t for t in (i.get("RepoTags") or []) if t != "<none>:<none>"])


def volume_inventory(inspected):
    """Volumes from ``docker volume inspect`` JSON: [{name, driver, mountpoint, labels, options,
    restorable}]. Only local volumes whose data lives under their mountpoint are carried over;
    a bind-style local volume (``device=`` option) points at data outside Docker's directory,
    which a migration does not move."""
    volumes = []
    for volume in inspected:
        options = volume.get("Options") or {}
        volumes.append({
            "name": volume["Name"], "driver": volume.get("Driver") or "local",
            "mountpoint": volume.get("Mountpoint") or "",
            "labels": volume.get("Labels") or {}, "options": options,
            "restorable": (volume.get("Driver") or "local") == "local" and "device" not in options,
        })
    return sorted(volumes, key=lambda v: v["name"])


def container_inventory(inspected):
    return sorted(({"id": c["Id"], "name": (c.get("Name") or "").lstrip("/"),
                    "image": (c.get("Config") or {}).get("Image"),
                    "running": bool((c.get("State") or {}).get("Running"))}
                   for c in inspected), key=lambda c: c["name"])


def export_bytes(inventory):
    """Bytes the export needs: each image's unpacked size (``docker save`` writes its layers
    uncompressed) and each carried-over volume's data."""
    total = sum(i["size"] for i in inventory["images"])
    total += sum(v.get("bytes", 0) for v in inventory["volumes"] if v["restorable"])
    return total


def space_shortfalls(needs, free, margin_fraction=0.1, margin_bytes=64 * 1024 * 1024):
    """``needs`` and ``free`` map a filesystem (its mount point) to bytes. Returns the
    filesystems that lack room, with what they need (plus a margin) and have."""
    short = []
    for fs, need in sorted(needs.items()):
        wanted = int(need * (1 + margin_fraction)) + margin_bytes
        if free.get(fs, 0) < wanted:
            short.append({"filesystem": fs, "needed": wanted, "free": free.get(fs, 0)})
    return short


def compare_images(expected, actual):
    """Problems between the exported images and those Docker has after the import."""
    have = dict((i["id"], set(i["tags"])) for i in actual)
    problems = []
    for image in expected:
        if image["id"] not in have:
            problems.append("image %s (%s) is missing" % (image["id"], ", ".join(image["tags"])))
            continue
        missing = set(image["tags"]) - have[image["id"]]
        if missing:
            problems.append("image %s lacks tags %s" % (image["id"], ", ".join(sorted(missing))))
    return problems


def compare_files(name, expected, actual):
    """Problems between two {relative path: checksum} maps of one volume."""
    problems = []
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            problems.append("volume %s: %s is missing" % (name, path))
        elif path not in expected:
            problems.append("volume %s: %s was not there before" % (name, path))
        elif expected[path] != actual[path]:
            problems.append("volume %s: %s differs (%s, was %s)" % (name, path, actual[path],
                                                                    expected[path]))
    return problems


def target_reached(target, docker_driver, pool_backend):
    """Whether Docker already runs on what the migration would make."""
    if target == "overlay2":
        return docker_driver == "overlay2"
    if target == "direct_lvm":
        return docker_driver == "devicemapper" and pool_backend == "lvm"
    return False
