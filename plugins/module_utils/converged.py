# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' fast path, without any I/O: what a host looks like (an "observation"), whether it
is healthy, and whether it still matches the observation recorded when a role last converged it.

A role ends early only when three things hold: the wanted state (every role option and the
collection's code, as one fingerprint) is the one recorded, the host looks exactly as it did then
(file checksums, loop file sizes, pool tables and LVM attributes, unit states, Docker's driver),
and it is healthy now (pools active and writable, monitoring on, units active). Anything else
makes the run a full one, which puts the host right and records it again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

RECORD_VERSION = 1


def pool_shape(table):
    """A thin-pool's table (``parse_thin_pool_table``) without its device numbers: loop devices
    are numbered anew at every boot, so only the shape (length, block size, low-water mark,
    features) says the pool is the one that was made."""
    return {"length_sectors": table["length_sectors"], "block_sectors": table["block_sectors"],
            "low_water_mark": table["low_water_mark"], "features": sorted(table["features"])}


def pool_health_problems(name, status):
    """Why a pool's status (a ``ThinPoolStatus``) is not one to leave alone (empty when it is)."""
    if status.failed:
        return ["pool %s has failed" % name]
    problems = []
    if status.mode != "rw":
        problems.append("pool %s is %s" % (name, status.mode))
    if status.needs_check:
        problems.append("pool %s needs a metadata check" % name)
    return problems


def lvm_pool_problems(key, row):
    """Why an LVM thin pool (an ``lvs`` JSON row) is not one to leave alone."""
    if row is None:
        return ["LVM pool %s does not exist" % key]
    problems = []
    if row.get("lv_active") != "active":
        problems.append("LVM pool %s is not active" % key)
    if row.get("seg_monitor") != "monitored":
        problems.append("LVM pool %s is not monitored by dmeventd (%s)"
                        % (key, row.get("seg_monitor") or "not monitored"))
    if row.get("lv_health_status"):
        problems.append("LVM pool %s: %s" % (key, row["lv_health_status"]))
    return problems


def unit_problems(unit, active_state):
    """A unit that failed is a problem; one that is merely inactive is not (a pool's boot unit
    is inactive until the next boot when the role made the pool itself; Docker's being up is
    what ``docker`` checks)."""
    if active_state == "failed":
        return ["unit %s has failed" % unit]
    if not active_state:
        return ["unit %s is unknown to systemd" % unit]
    return []


def docker_problems(want, seen):
    """``want`` and ``seen`` are {driver, pool}; an empty wanted pool is not checked."""
    if seen is None:
        return ["Docker does not answer (docker info has no storage driver)"]
    problems = []
    if seen.get("driver") != want.get("driver"):
        problems.append("Docker runs on %s, not %s" % (seen.get("driver"), want.get("driver")))
    if want.get("pool") and seen.get("pool") != want.get("pool"):
        problems.append("Docker uses pool %s, not %s" % (seen.get("pool"), want.get("pool")))
    return problems


def differences(recorded, observed, prefix=""):
    """What changed between two observations, one sentence a difference, sorted."""
    changes = []
    for key in sorted(set(recorded) | set(observed), key=str):
        where = "%s%s" % (prefix, key)
        if key not in observed:
            changes.append("%s is no longer observed" % where)
        elif key not in recorded:
            changes.append("%s was not recorded" % where)
        elif isinstance(recorded[key], dict) and isinstance(observed[key], dict):
            changes.extend(differences(recorded[key], observed[key], where + "."))
        elif recorded[key] != observed[key]:
            changes.append("%s changed (%s, recorded %s)" % (where, observed[key], recorded[key]))
    return changes


def judge(record, fingerprint, observed, problems):
    """(converged, reasons): whether a role may end early on this host, and if not, why not."""
    if record is None:
        return False, ["nothing recorded yet (no earlier run converged this host)"]
    reasons = list(problems)
    if record.get("version") != RECORD_VERSION:
        reasons.append("the record is of another format (version %s)" % record.get("version"))
    elif record.get("fingerprint") != fingerprint:
        reasons.append("the wanted state (role options or the collection's code) changed")
    else:
        reasons.extend(differences(record.get("observed") or {}, observed))
    return not reasons, reasons


SPEC_KEYS = ("files", "sizes", "dm_pools", "lvm_pools", "units")


def spec_of(params):
    """What a check compares (the options that name files, pools, units and Docker's storage)."""
    spec = dict((key, list(params.get(key) or [])) for key in SPEC_KEYS)
    spec["docker"] = dict(params["docker"]) if params.get("docker") else None
    return spec


def union_of_specs(specs):
    """One spec comparing everything that each of ``specs`` compares (site.yml's record of the
    storage and Docker roles together). Lists keep their first-seen order; of two Docker
    expectations, the later one stands (the Docker role's, which runs after the storage role)."""
    union = dict((key, []) for key in SPEC_KEYS)
    union["docker"] = None
    for spec in specs:
        for key in SPEC_KEYS:
            union[key].extend(item for item in spec.get(key) or [] if item not in union[key])
        if spec.get("docker"):
            union["docker"] = dict(spec["docker"])
    return union


def recorded_spec(record):
    """(spec, reasons): the spec a record lists, for a check that takes it from there."""
    if record is None:
        return None, []
    spec = record.get("spec")
    if not isinstance(spec, dict):
        return None, ["the record lists nothing to compare (written by an older release)"]
    return spec_of(spec), []


def new_record(fingerprint, observed, spec):
    return {"version": RECORD_VERSION, "fingerprint": fingerprint, "observed": observed,
            "spec": spec}
