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


def new_record(fingerprint, observed):
    return {"version": RECORD_VERSION, "fingerprint": fingerprint, "observed": observed}
