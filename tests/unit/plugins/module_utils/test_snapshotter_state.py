"""containerd's devmapper snapshotter state against its pool (bbolt.py, snapshotter_state.py) on
a capture (tests/unit/fixtures/containerd_state.json, scripts/lib/capture_containerd_state.py):
bookworm's containerd 1.6 on a raw pool, an image imported, a container run and removed, one kept,
then a thin id made in the pool by a message, as a crash between the pool's create_thin and the
state's write leaves it. The pool's ids come from thin_dump, not from the collection's reader."""

import base64
import gzip
import struct

import pytest

import captured
from ansible_collections.devmapper.storage.plugins.module_utils import bbolt
from ansible_collections.devmapper.storage.plugins.module_utils import snapshotter_state as s

CAPTURE = captured.load("containerd_state")
DB = gzip.decompress(base64.b64decode(CAPTURE["metadata_db_gzip_base64"]))


def test_the_capture_is_what_it_says():
    assert "1.6." in CAPTURE["containerd_version"] and len(DB) == CAPTURE["metadata_db_size"]
    assert CAPTURE["orphan_id"] in CAPTURE["pool_thin_ids"]
    assert " Active " in CAPTURE["snapshots"] and " Committed " in CAPTURE["snapshots"]


def test_the_state_names_the_layer_and_the_kept_container_not_the_removed_one():
    devices, ids = s.parse_state(bbolt.read_buckets(DB))
    by_id = dict((d["device_id"], (name, d)) for name, d in devices.items())
    assert sorted(by_id) == sorted(i for i in CAPTURE["pool_thin_ids"] if i != CAPTURE["orphan_id"])
    # the container's device is a snapshot of the layer's; ids the removed container had are free
    layer, container = [by_id[i] for i in sorted(by_id)]
    assert container[1]["parent"] == layer[0] and layer[1]["parent"] is None
    assert container[1]["state"] == "Activated" and layer[1]["state"] == "Deactivated"
    assert all(d["size"] == 64 * 2 ** 20 for d in devices.values())       # base_image_size
    assert [i for i, state in ids.items() if state == "taken"] == sorted(by_id)
    assert "free" in ids.values()


def test_the_orphan_is_the_id_the_message_made_and_nothing_else_drifts():
    devices, ids = s.parse_state(bbolt.read_buckets(DB))
    report = s.drift(CAPTURE["pool_thin_ids"], devices, ids)
    assert report == {"orphan_ids": [CAPTURE["orphan_id"]], "missing_devices": [],
                      "faulty_devices": [], "faulty_ids": [], "in_sync": False}
    healed = [i for i in CAPTURE["pool_thin_ids"] if i != CAPTURE["orphan_id"]]
    assert s.drift(healed, devices, ids)["in_sync"] is True


def test_a_record_whose_id_left_the_pool_is_missing_and_faulty_ones_are_named():
    devices, ids = s.parse_state(bbolt.read_buckets(DB))
    gone = min(d["device_id"] for d in devices.values())
    report = s.drift([i for i in CAPTURE["pool_thin_ids"] if i != gone], devices, ids)
    assert len(report["missing_devices"]) == 1 and report["in_sync"] is False
    name = report["missing_devices"][0]
    faulty = dict(devices, **{name: dict(devices[name], state="Faulty")})
    marked = dict(ids)
    marked[gone] = "faulty"
    report = s.drift([], faulty, marked)
    assert report["faulty_devices"] == [name] and report["faulty_ids"] == [gone]
    assert name not in report["missing_devices"]        # Faulty: the snapshotter knows


def test_the_pool_state_file_is_named_after_the_pool():
    assert s.pool_state_file("/var/lib/containerd/devmapper", "cs-pool") == \
        "/var/lib/containerd/devmapper/cs-pool.db"


def test_a_file_that_is_not_bbolt_or_is_cut_short_is_refused():
    with pytest.raises(bbolt.BoltError):
        bbolt.read_buckets(b"\0" * 8192)
    with pytest.raises(bbolt.BoltError):
        bbolt.read_buckets(DB[:4096])
    broken = bytearray(DB)
    # both meta pages' checksums wrong: no meta page to trust
    for page in (0, 1):
        offset = page * struct.unpack_from("<I", DB, 16 + 8)[0] + 16 + 64 - 8
        broken[offset] ^= 0xFF
    with pytest.raises(bbolt.BoltError):
        bbolt.read_buckets(bytes(broken))
