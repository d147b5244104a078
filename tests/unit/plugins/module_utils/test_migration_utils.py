"""The migration's pure parts: inventories from real `docker ... inspect` JSON captured in a guest
(tests/unit/fixtures/migration.json, made by scripts/lib/capture_migration.py), the state file's
step bookkeeping, the space check and the comparisons that decide whether anything was lost."""

import json
import os

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils.migration import inventory as mig
from ansible_collections.devmapper.storage.plugins.module_utils.migration.state import (
    MigrationState)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.steps import STEP_NAMES

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "migration.json")
with open(FIXTURE) as _handle:
    CAPTURED = json.load(_handle)


def captured(prefix):
    return json.loads([v for k, v in CAPTURED.items() if k.startswith(prefix)][0]["stdout"])


IMAGES = captured("docker image inspect")
VOLUMES = captured("docker volume inspect")
CONTAINERS = captured("docker container inspect")


def test_image_inventory_has_tagged_images_once_each_with_all_tags():
    images = mig.image_inventory(IMAGES)
    assert sorted(i["tags"] for i in images) == [["app:1"], ["busybox:alias", "busybox:local"]]
    assert all(i["id"].startswith("sha256:") and i["size"] > 0 for i in images)
    assert images == sorted(images, key=lambda i: i["id"])


def test_untagged_images_are_listed_apart():
    untagged = mig.untagged_images(IMAGES)
    assert len(untagged) == 1
    assert untagged[0] not in [i["id"] for i in mig.image_inventory(IMAGES)]


def test_volume_inventory_carries_local_volumes_but_not_bind_style_ones():
    volumes = dict((v["name"], v) for v in mig.volume_inventory(VOLUMES))
    assert volumes["appdata"]["restorable"]
    assert volumes["appdata"]["labels"] == {"purpose": "migration-test"}
    assert volumes["appdata"]["mountpoint"].endswith("/volumes/appdata/_data")
    assert not volumes["bound"]["restorable"]
    assert volumes["bound"]["options"]["device"] == "/srv/bound"


def test_container_inventory_names_and_states():
    containers = dict((c["name"], c) for c in mig.container_inventory(CONTAINERS))
    assert containers["keeper"]["image"] == "app:1" and not containers["keeper"]["running"]
    assert containers["runner"]["running"]


def test_export_bytes_counts_the_tagged_images_only():
    inventory = {"images": mig.image_inventory(IMAGES),
                 "volumes": [dict(v, bytes=1000) for v in mig.volume_inventory(VOLUMES)]}
    # the volumes are carried after the stop, not exported
    assert mig.export_bytes(inventory) == sum(i["Size"] for i in IMAGES if i["RepoTags"])


def test_space_shortfalls_name_the_filesystem_with_a_margin():
    needs = {"/": 100 * 2 ** 20, "/srv": 10}
    free = {"/": 150 * 2 ** 20, "/srv": 10 ** 9}
    # 100 MiB + 10 % + 64 MiB margin does not fit in 150 MiB
    short = mig.space_shortfalls(needs, free)
    assert [s["filesystem"] for s in short] == ["/"]
    assert short[0]["needed"] == int(100 * 2 ** 20 * 1.1) + 64 * 2 ** 20
    assert mig.space_shortfalls(needs, dict(free, **{"/": 200 * 2 ** 20})) == []


PARAMS = {"target": "direct_lvm", "backup_dir": "/var/lib/docker-migration",
          "backup_mode": "move", "target_vg": "docker", "target_pool": "thinpool",
          "staged_pool": "thinpool_migrating"}


def new_state():
    return MigrationState.new(STEP_NAMES, PARAMS, {"driver": "devicemapper"},
                              {"images": [], "volumes": []}, {}, created_vg=True, lvs_before=[],
                              docker_active=True, attempt=1)


def test_steps_are_recorded_in_order_and_once():
    state = new_state()
    assert state.next_step() == "export"
    assert not state.needs_rollback()
    state.mark_done("export", at=100.0)
    state.mark_done("export", at=200.0)
    assert state.done == ["export"]
    assert state.data["finished_at"] == {"export": 100.0}
    assert state.missing_before("backup") == ["prepare", "stop_containers", "stop"]
    state.mark_done("stop")
    assert state.needs_rollback()
    for step in STEP_NAMES:
        state.mark_done(step)
    assert state.next_step() is None
    with pytest.raises(ValueError):
        state.mark_done("mystery")


def test_the_downtime_runs_from_the_first_stop_to_the_start():
    state = new_state()
    state.note_downtime_began(1000.0)
    assert state.downtime is None                       # Docker has not started again yet
    state.note_downtime_began(1003.0)                   # the stop step, after a power cut
    state.mark_done("start", at=1004.25)
    assert (state.data["downtime_began_at"], state.downtime) == (1000.0, 4.2)
    state.rolled_back(files_verified=None)
    assert "downtime_began_at" not in state.data and state.downtime is None


def test_compare_images_reports_missing_images_and_tags():
    expected = mig.image_inventory(IMAGES)
    assert mig.compare_images(expected, expected) == []
    busybox = [i for i in expected if "busybox:local" in i["tags"]][0]
    fewer_tags = [dict(i, tags=["busybox:local"]) if i is busybox else i for i in expected]
    assert mig.compare_images(expected, fewer_tags) == [
        "image %s lacks tags busybox:alias" % busybox["id"]]
    problems = mig.compare_images(expected, [i for i in expected if i is not busybox])
    assert len(problems) == 1 and "is missing" in problems[0]


def test_compare_files_reports_missing_new_and_changed_files():
    before = {"a": "sha256:1", "b": "sha256:2", "l": "symlink:a"}
    assert mig.compare_files("v", before, dict(before)) == []
    after = {"a": "sha256:1", "b": "sha256:3", "c": "sha256:4"}
    assert mig.compare_files("v", before, after) == [
        "v: b differs (sha256:3, was sha256:2)",
        "v: c was not there before",
        "v: l is missing"]


@pytest.mark.parametrize("target,driver,backend,reached", [
    ("direct_lvm", "devicemapper", "loop", False),
    ("direct_lvm", "devicemapper", "lvm", True),
    ("overlay2", "devicemapper", "lvm", False),
    ("overlay2", "overlay2", None, True),
])
def test_target_reached(target, driver, backend, reached):
    assert mig.target_reached(target, driver, backend) is reached
