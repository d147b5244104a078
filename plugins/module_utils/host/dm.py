# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Device-mapper (dmsetup) and the thin-provisioning tools: the only place their command lines
are built, for reads (a pool's table and status, its active thin devices, the ids in its
metadata, what a pool is made of) and for the actions planners put in a plan.

Used by: thinpool and thin_devices (pools and thin devices), converged (the fast path's pool
reads), docker_storage_migration (what Docker's pool is, and releasing a loop pool).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.devmapper.storage.plugins.module_utils.dm_parsers import (
    ThinPoolStatus,
    parse_thin_pool_table,
    parse_thin_table,
    split_dmsetup_lines,
)
from ansible_collections.devmapper.storage.plugins.module_utils.thin_metadata import read_thin_ids
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    CommandError,
    ModuleError,
    ToolRunner,
)

DMSETUP = "dmsetup"
THIN_CHECK = "thin_check"
THIN_DUMP = "thin_dump"
THIN_REPAIR = "thin_repair"

# What the kernel's answers to pool messages mean to someone managing thin devices.
MESSAGE_ERRORS = {
    errno.EEXIST: "thin id %(id)s already exists in pool %(pool)s",
    errno.ENODATA: "thin id %(id)s does not exist in pool %(pool)s",
    errno.EBUSY: "thin id %(id)s in pool %(pool)s is in use (active or being snapshotted)",
}


class PoolMessage(Action):
    """``dmsetup message POOL 0 'MSG'`` whose kernel refusals become plain sentences."""

    def __init__(self, runner, pool, message, thin_id, why):
        super(PoolMessage, self).__init__(runner, ["message", pool, "0", message], why)
        self.pool = pool
        self.thin_id = thin_id

    def apply(self):
        try:
            return super(PoolMessage, self).apply()
        except CommandError as exc:
            text = MESSAGE_ERRORS.get(exc.errno)
            if text:
                exc.msg = "%s (%s)" % (text % {"id": self.thin_id, "pool": self.pool},
                                       exc.msg)
            raise


def metadata_path(table):
    """The metadata device of a pool (its parsed table) as a path: /dev/block/MAJOR:MINOR."""
    return "/dev/block/" + table["metadata_dev"]


def thin_table(sectors, pool_name, thin_id):
    """The table line of thin device ``thin_id`` of pool /dev/mapper/``pool_name``."""
    return "0 %d thin /dev/mapper/%s %d" % (sectors, pool_name, thin_id)


class DeviceMapper(object):
    def __init__(self, module):
        self.module = module
        self.dmsetup = ToolRunner(module, DMSETUP)

    def thin_check_installed(self):
        return self.module.get_bin_path(THIN_CHECK) is not None

    # ---- reads ---------------------------------------------------------------------------------
    def exists(self, name):
        return self.devno(name) is not None

    def node_exists(self, name):
        """Whether /dev/mapper/``name`` is there: an active device, without a dmsetup call
        (for the downtime of a migration, where each call counts)."""
        return os.path.exists(os.path.join("/dev/mapper", name))

    def devno(self, name):
        """MAJOR:MINOR of device ``name``, or None when there is no such device."""
        args = ["info", "-c", "--noheadings", "-o", "major,minor", name]
        rc, out, err = self.dmsetup.run(args, check=False)
        if rc != 0:
            if "does not exist" not in err and "No such device" not in err:
                raise CommandError(self.dmsetup.argv(args), rc, out, err)
            return None
        return out.strip().replace(" ", "")

    def open_count(self, name):
        """How many times device ``name`` is held open (a mounted filesystem, a device on it)."""
        out = self.dmsetup.run(["info", "-c", "--noheadings", "-o", "open", name])[1]
        return int(out.strip() or 0)

    def target_line(self, verb, name):
        """The one target line of ``dmsetup table|status NAME`` (a thin pool has exactly one)."""
        out = self.dmsetup.run([verb, name])[1]
        lines = split_dmsetup_lines(out)
        if len(lines) != 1:
            raise ModuleError("%s has %d targets; a thin pool has exactly one" % (name, len(lines)))
        return lines[0][1]

    def thin_pool_table_and_status(self, name):
        """(parsed table, ThinPoolStatus) of the active thin pool ``name``."""
        table = parse_thin_pool_table(self.target_line("table", name))
        status = ThinPoolStatus(self.target_line("status", name),
                                block_sectors=table["block_sectors"])
        return table, status

    def read_thin_pool(self, name):
        """{name, table, status, devno} of the active thin pool ``name``, or None."""
        devno = self.devno(name)
        if devno is None:
            return None
        table, status = self.thin_pool_table_and_status(name)
        return {"name": name, "table": table, "status": status, "devno": devno}

    def active_thins(self, pool_devno):
        """{dm name: {"device_id", "sectors"}} of active thin devices whose table points at the
        pool (major:minor)."""
        out = self.dmsetup.run(["table", "--target", "thin"])[1]
        found = {}
        for name, line in split_dmsetup_lines(out):
            table = parse_thin_table(line)
            if table["pool_dev"] == pool_devno:
                found[name] = {"device_id": table["device_id"],
                               "sectors": table["length_sectors"]}
        return found

    def thin_ids_in_metadata(self, metadata_dev):
        """Thin device ids the pool's metadata holds (active or not), as its last committed
        transaction left them: read from the device, with no message to the pool (a read-only
        run changes nothing; thin_metadata.py says why thin_ls cannot do it)."""
        return read_thin_ids(metadata_dev)

    def check_metadata(self, metadata_dev):
        """Run thin_check on a metadata device (the pool must not be active); read only."""
        if not self.thin_check_installed():
            return
        thin_check = ToolRunner(self.module, THIN_CHECK)
        args = ["-q", metadata_dev]
        rc, out, err = thin_check.run(args, check=False)
        if rc != 0:
            raise ModuleError(
                "thin_check found damaged metadata on %s; the pool was not activated. Repair it "
                "(loop pools: playbooks/repair-metadata.yml or the dm_thinpool_repair module, "
                "which keep the damaged metadata; others: thin_repair into a new metadata device, "
                "then swap it in), or restore from "
                "backup" % metadata_dev, cmd=" ".join(thin_check.argv(args)),
                rc=rc, stdout=out, stderr=err)

    def clear_needs_check(self, metadata_dev, why):
        """The step that clears a clean metadata device's needs_check flag (thin_check checks
        it again first, and clears the flag only when it passes)."""
        return Action(ToolRunner(self.module, THIN_CHECK),
                      ["--clear-needs-check-flag", "-q", metadata_dev], why)

    def check_metadata_file(self, path):
        """(passes, what thin_check said) of a metadata file or inactive device; read only."""
        rc, out, err = ToolRunner(self.module, THIN_CHECK).run([path], check=False)
        return rc == 0, "\n".join(part.strip() for part in (out, err) if part.strip())

    def check_step(self, path, why):
        return Action(ToolRunner(self.module, THIN_CHECK), [path], why)

    def dump_readable(self, metadata, xml, why):
        """The step that writes what can be read of damaged metadata to ``xml``."""
        return Action(ToolRunner(self.module, THIN_DUMP), ["--repair", "-o", xml, metadata], why)

    def repair(self, metadata, new, why):
        """The step that repairs what can be read of ``metadata`` into ``new``."""
        return Action(ToolRunner(self.module, THIN_REPAIR), ["-i", metadata, "-o", new], why)

    def backend(self, name):
        """`loop`, `lvm`, `dm` (another raw pool) or None when there is no such device."""
        rc, out, dummy = self.dmsetup.run(["info", "-c", "--noheadings", "-o", "uuid", name],
                                          check=False)
        if rc != 0:
            return None
        if out.strip().startswith("LVM-"):
            return "lvm"
        rc, deps, dummy = self.dmsetup.run(["deps", "-o", "devname", name], check=False)
        return "loop" if "(loop" in deps else "dm"

    def loop_devices_under(self, name):
        """The loop devices (/dev/loopN) device ``name`` is built on."""
        dummy, deps, dummy = self.dmsetup.run(["deps", "-o", "devname", name])
        return ["/dev/" + d.strip("()") for d in deps.split(":", 1)[-1].split() if "loop" in d]

    def remove_now(self, name):
        self.dmsetup.run(["remove", name])

    # ---- actions: what a plan runs -------------------------------------------------------------
    def create(self, name, table, why):
        return Action(self.dmsetup, ["create", name, "--table", table], why)

    def remove(self, name, why):
        return Action(self.dmsetup, ["remove", name], why)

    def reload_steps(self, name, table, whys):
        """Suspend, load ``table``, resume: how a live device changes its table; ``whys`` gives
        the reason of each of the three steps."""
        return [self.suspend(name, whys[0]),
                Action(self.dmsetup, ["reload", name, "--table", table], whys[1]),
                self.resume(name, whys[2])]

    def suspend(self, name, why):
        """A suspend that apply_plan undoes (resumes) when a later step fails before the device's
        resume: a failed plan never leaves a pool or an origin suspended."""
        action = Action(self.dmsetup, ["suspend", name], why)
        action.undo = Action(self.dmsetup, ["resume", name], "resume %s after a failed step" % name)
        return action

    def resume(self, name, why):
        action = Action(self.dmsetup, ["resume", name], why)
        action.undoes = [["suspend", name]]
        return action

    def message(self, pool, text, thin_id, why):
        return PoolMessage(self.dmsetup, pool, text, thin_id, why)
