"""Verifier of the direct_lvm scenario: the runbook's pool, monitored and autoextending, grown
onto the added disk, with Docker on it."""

import json

from docker_checks import docker_size, driver_status, import_busybox, run_writes_file


def vg(host):
    rep = json.loads(host.check_output(
        "vgs --reportformat json --units b --nosuffix -o vg_name,vg_extent_size,vg_extent_count,pv_count docker"))
    return rep["report"][0]["vg"][0]


def pool(host):
    rep = json.loads(host.check_output(
        "lvs --reportformat json --units b --nosuffix "
        "-o lv_name,lv_size,lv_metadata_size,chunk_size,zero,seg_monitor,lv_profile,lv_active docker/thinpool"))
    return rep["report"][0]["lv"][0]


def test_vg_has_both_disks(host):
    pvs = host.check_output("pvs --noheadings -o pv_name,vg_name").split()
    assert pvs.count("docker") == 2
    assert "/dev/ubdb" in pvs and "/dev/ubdc" in pvs


def test_pool_is_the_runbooks_pool_grown_to_95_percent_of_the_vg(host):
    g, p = vg(host), pool(host)
    extent, extents = int(g["vg_extent_size"]), int(g["vg_extent_count"])
    assert int(p["lv_size"]) == (extents * 95 // 100) * extent
    assert int(p["lv_metadata_size"]) >= (extents * 1 // 100) * extent
    assert int(p["chunk_size"]) == 512 * 1024
    assert p["zero"] != "zero"
    assert p["lv_active"] == "active"


def test_pool_is_monitored_with_the_autoextend_profile(host):
    p = pool(host)
    assert p["seg_monitor"] == "monitored"
    assert p["lv_profile"] == "docker-thinpool"
    profile = host.file("/etc/lvm/profile/docker-thinpool.profile").content_string
    assert "thin_pool_autoextend_threshold=80" in profile.replace(" ", "")
    assert "thin_pool_autoextend_percent=20" in profile.replace(" ", "")


def test_docker_sees_the_grown_pool(host):
    driver, status = driver_status(host)
    assert driver == "devicemapper"
    assert status["Pool Name"] == "docker-thinpool"
    assert status["Pool Blocksize"] == "524.3kB"
    assert abs(docker_size(status["Data Space Total"]) - int(pool(host)["lv_size"])) < 0.01e9
    opts = json.loads(host.file("/etc/docker/daemon.json").content_string)["storage-opts"]
    assert "dm.min_free_space=10%" in opts
    assert json.loads(host.file("/etc/docker/daemon.json").content_string)["log-level"] == "warn"


def test_pool_comes_back_before_docker_on_boot(host):
    assert host.service("devmapper-pool@docker-thinpool").is_enabled
    conf = host.file("/etc/devmapper-storage/pools/docker-thinpool.conf").content_string
    assert "BACKEND=lvm" in conf and "VG=docker" in conf and "LV=thinpool" in conf


def test_a_container_from_an_imported_image_writes_a_file(host):
    assert run_writes_file(host, import_busybox(host)) == "written-in-container"
