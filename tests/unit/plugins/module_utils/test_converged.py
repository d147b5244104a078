"""The fast path's judgement (module_utils/converged.py) on outputs captured from a real kernel:
a pool as made, a full pool, an LVM pool as the runbook makes it, and the same pool inactive."""

import json

from ansible_collections.devmapper.storage.plugins.module_utils import converged as c
from ansible_collections.devmapper.storage.plugins.module_utils import dm_parsers as p
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import storage_of
from captured import output

LVS = ("lvs -a --reportformat json --units b --nosuffix -o lv_name,vg_name,lv_attr,lv_size,pool_lv,"
       "origin,data_percent,metadata_percent,lv_metadata_size,chunk_size,seg_monitor,lv_profile,"
       "transaction_id,thin_id,lv_active,zero,discards,lv_dm_path,lv_kernel_major,lv_kernel_minor")


def pool_row(state):
    rows = p.parse_lvm_report(output(state, LVS)["stdout"], "lv")
    return [r for r in rows if r["lv_name"] == "thinpool"][0]


def shape_of(text):
    return c.pool_shape(p.parse_thin_pool_table(text.strip()))


def health(name, text):
    return c.pool_health_problems(name, p.ThinPoolStatus(text.strip()))


def test_table_shape_keeps_what_was_made_and_drops_device_numbers():
    shape = shape_of(output("loop_pool", "dmsetup table fx-pool")["stdout"])
    # capture-fixtures made fx-pool of 256 MiB with 64 KiB blocks and the default low-water mark
    assert shape == {"length_sectors": 256 * 2048, "block_sectors": 128, "low_water_mark": 32768,
                     "features": ["skip_block_zeroing"]}
    renumbered = output("loop_pool", "dmsetup table fx-pool")["stdout"].replace("7:1 7:0", "7:5 7:4")
    assert shape_of(renumbered) == shape


def test_a_writable_pool_is_healthy_and_a_full_one_is_not():
    assert health("fx-pool", output("loop_pool", "dmsetup status fx-pool")["stdout"]) == []
    problems = health("fx-full", output("loop_pool_full", "dmsetup status fx-full")["stdout"])
    assert problems == ["pool fx-full is out_of_data_space"]


def test_lvm_pool_must_be_active_and_monitored():
    assert c.lvm_pool_problems("docker/thinpool", pool_row("lvm_pool")) == []
    inactive = c.lvm_pool_problems("docker/thinpool", pool_row("lvm_pool_inactive"))
    assert inactive == ["LVM pool docker/thinpool is not active",
                        "LVM pool docker/thinpool is not monitored by dmeventd (not monitored)"]
    assert c.lvm_pool_problems("docker/thinpool", None) == ["LVM pool docker/thinpool does not exist"]


def test_docker_info_gives_driver_and_pool():
    info = {"Driver": "devicemapper", "DriverStatus": [["Pool Name", "docker-thinpool"],
                                                       ["Pool Blocksize", "65.54kB"]]}
    seen = storage_of(json.loads(json.dumps(info)))
    assert seen == {"driver": "devicemapper", "pool": "docker-thinpool"}
    assert c.docker_problems({"driver": "devicemapper", "pool": "docker-thinpool"}, seen) == []
    assert c.docker_problems({"driver": "overlay2", "pool": ""}, seen) == [
        "Docker runs on devicemapper, not overlay2"]
    assert c.docker_problems({"driver": "devicemapper", "pool": "other"}, seen) == [
        "Docker uses pool docker-thinpool, not other"]
    # what docker.io 20.10's client printed in a test host whose Docker was not running (rc 0)
    stopped = ('{"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock.'
               ' Is the docker daemon running?"],"ClientInfo":{"Debug":false,"Context":"default",'
               '"Plugins":[],"Warnings":null}}')
    assert storage_of(json.loads(stopped)) is None
    assert c.docker_problems({"driver": "devicemapper"}, None) == [
        "Docker does not answer (docker info has no storage driver)"]


def test_units_only_a_failed_or_unknown_one_is_a_problem():
    assert c.unit_problems("devmapper-pool@x.service", "inactive") == []
    assert c.unit_problems("docker.service", "failed") == ["unit docker.service has failed"]
    assert c.unit_problems("nothing.service", None) == ["unit nothing.service is unknown to systemd"]


def observation():
    return {"files": {"/etc/docker/daemon.json": "ab12"}, "sizes": {"/var/lib/docker-loop/data": 4096},
            "dm_pools": {"docker-thinpool": shape_of(
                output("loop_pool", "dmsetup table fx-pool")["stdout"])}}


def test_judge_ends_early_only_on_the_same_fingerprint_and_host():
    record = c.new_record("f1", observation(), c.spec_of({"files": ["/etc/docker/daemon.json"]}))
    assert c.judge(record, "f1", observation(), []) == (True, [])
    # no record, another fingerprint, a health problem: full run
    assert c.judge(None, "f1", observation(), [])[0] is False
    assert c.judge(record, "f2", observation(), []) == (
        False, ["the wanted state (role options or the collection's code) changed"])
    assert c.judge(record, "f1", observation(), ["pool x is ro"]) == (False, ["pool x is ro"])
    # an edited file, a grown pool, a removed file: each is named
    drifted = observation()
    drifted["files"]["/etc/docker/daemon.json"] = "cd34"
    drifted["dm_pools"]["docker-thinpool"]["length_sectors"] *= 2
    del drifted["sizes"]["/var/lib/docker-loop/data"]
    converged, reasons = c.judge(record, "f1", drifted, [])
    assert not converged
    assert reasons == [
        "dm_pools.docker-thinpool.length_sectors changed (1048576, recorded 524288)",
        "files./etc/docker/daemon.json changed (cd34, recorded ab12)",
        "sizes./var/lib/docker-loop/data is no longer observed"]
    assert c.judge({"version": 0}, "f1", observation(), [])[1] == [
        "the record is of another format (version 0)"]


LOOP_SPEC = {"files": ["/etc/devmapper-storage/pools/docker-thinpool.conf", "/etc/docker/daemon.json"],
             "sizes": ["/var/lib/docker-loop/data", "/var/lib/docker-loop/metadata"],
             "dm_pools": ["docker-thinpool"], "units": ["devmapper-pool@docker-thinpool.service"],
             "docker": None}
DOCKER_SPEC = {"files": ["/etc/docker/daemon.json"], "units": ["docker.service"],
               "docker": {"driver": "devicemapper", "pool": "docker-thinpool"}}


def test_site_yml_records_the_storage_and_docker_roles_as_one_spec():
    union = c.union_of_specs([c.spec_of(LOOP_SPEC), c.spec_of(DOCKER_SPEC)])
    assert union == {
        "files": ["/etc/devmapper-storage/pools/docker-thinpool.conf", "/etc/docker/daemon.json"],
        "sizes": ["/var/lib/docker-loop/data", "/var/lib/docker-loop/metadata"],
        "dm_pools": ["docker-thinpool"], "lvm_pools": [],
        "units": ["devmapper-pool@docker-thinpool.service", "docker.service"],
        "docker": {"driver": "devicemapper", "pool": "docker-thinpool"}}
    # a storage role that points Docker itself (standalone) and the Docker role: the later stands
    standalone = dict(LOOP_SPEC, docker={"driver": "devicemapper", "pool": "old"})
    assert c.union_of_specs([standalone, DOCKER_SPEC])["docker"]["pool"] == "docker-thinpool"
    assert c.union_of_specs([]) == c.spec_of({})


def test_a_check_takes_what_to_compare_from_the_record():
    spec = c.union_of_specs([LOOP_SPEC, DOCKER_SPEC])
    record = c.new_record("f1", observation(), spec)
    # as written to disk and read back
    assert c.recorded_spec(json.loads(json.dumps(record))) == (spec, [])
    assert c.recorded_spec(None) == (None, [])
    older = dict(record)
    del older["spec"]
    assert c.recorded_spec(older) == (
        None, ["the record lists nothing to compare (written by an older release)"])
