"""ThinDeviceIO.read_pool on the pool captured in state loop_pool_thins (ids 0 and 1, active as
fx-base and fx-snap): four dmsetup reads, then the pool's metadata device read directly (its
blocks answered here from the capture of tests/unit/fixtures/thin_metadata.json), never a
message to the pool. Before issue 14 it took a metadata snapshot (reserve_metadata_snap,
thin_ls, release_metadata_snap), check mode too: two transactions of the pool's metadata."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import thin_metadata
from ansible_collections.devmapper.storage.plugins.module_utils.thin_devices import (
    ThinDeviceIO, thin_devices_report)
from captured import load, output, outputs
from fake_host import CapturedModule

POOL_READS = ["dmsetup info -c --noheadings -o major,minor fx-pool", "dmsetup table fx-pool",
              "dmsetup status fx-pool", "dmsetup table --target thin"]
CAPTURED_IDS = sorted(int(w) for w in output("thin_metadata", "thin_ls")["stdout"].split()[1:])


@pytest.fixture
def metadata_reads(monkeypatch):
    blocks = dict((int(n), bytes.fromhex(h)) for n, h in load("thin_metadata")["blocks"].items())
    opened = []

    class CapturedDevice(object):
        def __init__(self, path):
            opened.append(path)

        def read(self, blocknr):
            return blocks[blocknr]

        def close(self):
            pass
    monkeypatch.setattr(thin_metadata, "MetadataDevice", CapturedDevice)
    return opened


def read(check_mode=False, **kwargs):
    answers = [output("loop_pool_thins", c) for c in POOL_READS]
    answers[2] = outputs("loop_pool_thins", POOL_READS[2])[1]
    module = CapturedModule(*answers)
    module.check_mode = check_mode
    pool = ThinDeviceIO(module).read_pool("fx-pool", **kwargs)
    assert not module.answers, "commands left unasked: %s" % module.answers
    return pool, [" ".join(argv[1:]) for argv in module.calls]


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_thin_ids_come_from_the_metadata_device_and_the_pool_gets_no_message(
        metadata_reads, check_mode):
    pool, commands = read(check_mode)
    assert [c.split()[0] for c in commands] == ["info", "table", "status", "table"]
    assert metadata_reads == ["/dev/block/7:1"]
    assert pool["thin_ids"] == CAPTURED_IDS
    assert dict((n, d["device_id"]) for n, d in pool["active"].items()) == \
        {"fx-base": 0, "fx-snap": 1}


def test_dm_snapshot_info_reads_no_metadata_unless_asked(metadata_reads):
    pool, commands = read(read_metadata=False)
    assert metadata_reads == []
    report = thin_devices_report(pool)
    assert report["thin_ids"] is None and report["thin_ids_why"].startswith("not listed")
    assert sorted(report["active_devices"]) == ["fx-base", "fx-snap"]
    pool, commands = read(read_metadata=True)
    assert thin_devices_report(pool) == {"thin_ids": CAPTURED_IDS,
                                         "active_devices": pool["active"]}
