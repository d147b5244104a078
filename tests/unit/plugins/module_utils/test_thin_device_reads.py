"""ThinDeviceIO.read_pool on the pool captured in state loop_pool_thins (ids 0 and 1, active as
fx-base and fx-snap), with no metadata snapshot held: the pool's metadata is read (a metadata
snapshot: two pool transactions and thin_ls) only when an id the caller asks about is not active,
or when the caller names none."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    ThinDeviceIO, thin_devices_report)
from captured import output, outputs
from fake_host import CapturedModule

POOL_READS = ["dmsetup info -c --noheadings -o major,minor fx-pool", "dmsetup table fx-pool",
              "dmsetup status fx-pool", "dmsetup table --target thin"]
NO_OUTPUT = {"rc": 0, "stdout": "", "stderr": ""}
METADATA_READS = [NO_OUTPUT, output("loop_pool_thins", "thin_ls --metadata-snap"), NO_OUTPUT]


def read(asked_ids, metadata, **kwargs):
    answers = [output("loop_pool_thins", c) for c in POOL_READS]
    answers[2] = outputs("loop_pool_thins", POOL_READS[2])[1]
    assert answers[2]["stdout"].split()[6] == "-", "a metadata snapshot is held"
    module = CapturedModule(*(answers + metadata))
    pool = ThinDeviceIO(module).read_pool("fx-pool", asked_ids, **kwargs)
    assert not module.answers, "commands left unasked: %s" % module.answers
    return pool, [" ".join(argv[1:]) for argv in module.calls]


@pytest.mark.parametrize("asked", [[0], [1], [0, 1]])
def test_active_ids_need_no_metadata_read(asked):
    pool, commands = read(asked, [])
    assert [c.split()[0] for c in commands] == ["info", "table", "status", "table"]
    assert pool["thin_ids"] is None
    assert dict((n, d["device_id"]) for n, d in pool["active"].items()) == \
        {"fx-base": 0, "fx-snap": 1}


@pytest.mark.parametrize("asked", [[2], [0, 2], None])
def test_an_inactive_or_unnamed_id_reads_the_metadata_through_a_snapshot(asked):
    pool, commands = read(asked, METADATA_READS)
    assert commands[4:] == ["message fx-pool 0 reserve_metadata_snap",
                            "--metadata-snap -o DEV /dev/block/7:1",
                            "message fx-pool 0 release_metadata_snap"]
    assert pool["thin_ids"] == [0, 1]


def test_dm_snapshot_info_sends_the_pool_no_message_unless_asked():
    pool, commands = read(None, [], read_metadata=False)
    assert not [c for c in commands if c.startswith("message")]
    report = thin_devices_report(pool)
    assert report["thin_ids"] is None and report["thin_ids_why"].startswith("not listed")
    assert sorted(report["active_devices"]) == ["fx-base", "fx-snap"]
    pool, commands = read(None, METADATA_READS, read_metadata=True)
    assert thin_devices_report(pool) == {"thin_ids": [0, 1], "active_devices": pool["active"]}
