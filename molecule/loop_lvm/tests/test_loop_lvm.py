"""Verifier of the loop_lvm scenario: Docker runs on the loop-backed pool the role made."""

import json

from docker_checks import (docker_size, driver_status, import_busybox, run_writes_file,
                           scenario_group_vars)

GiB = 1 << 30


def test_docker_uses_the_loop_pool_of_the_configured_size(host):
    driver, status = driver_status(host)
    assert driver == "devicemapper"
    assert status["Pool Name"] == "docker-thinpool"
    assert status["Pool Blocksize"] == "65.54kB"
    want = int(scenario_group_vars("loop_lvm")["loop_lvm_data_size"].rstrip("G")) * GiB
    assert abs(docker_size(status["Data Space Total"]) - want) < 0.01 * want


def test_pool_sits_on_the_sparse_files(host):
    table = host.check_output("dmsetup table docker-thinpool").split()
    assert table[2] == "thin-pool"
    backing = host.check_output("losetup --noheadings --output BACK-FILE --list").split()
    assert "/var/lib/docker-loop/data" in backing and "/var/lib/docker-loop/metadata" in backing
    # sparse: far less allocated than the data file's size
    assert host.file("/var/lib/docker-loop/data").size > 20 * int(
        host.check_output("du -B1 /var/lib/docker-loop/data").split()[0])


def test_daemon_json_merged_not_clobbered(host):
    config = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert config["log-level"] == "warn"          # written by prepare, before the role ran
    assert config["iptables"] is False and config["bridge"] == "none"
    assert config["storage-driver"] == "devicemapper"
    assert "dm.thinpooldev=/dev/mapper/docker-thinpool" in config["storage-opts"]
    backups = host.check_output("ls /etc/docker/").split()
    assert any(name.startswith("daemon.json.") for name in backups), backups


def test_pool_comes_back_before_docker_on_boot(host):
    assert host.service("devmapper-pool@docker-thinpool").is_enabled
    dropin = host.file("/etc/systemd/system/docker.service.d/10-devmapper-pool.conf")
    assert "Requires=devmapper-pool@docker-thinpool.service" in dropin.content_string
    assert "After=devmapper-pool@docker-thinpool.service" in dropin.content_string


def test_a_container_from_an_imported_image_writes_a_file(host):
    assert run_writes_file(host, import_busybox(host)) == "written-in-container"


def test_docker_that_ran_before_was_moved_to_the_pool(host):
    # prepare.yml started Docker on vfs; the role switched it to the pool and restarted it
    assert host.service("docker").is_running and host.service("docker").is_enabled
    assert {"vfs", "devicemapper"} <= set(host.check_output("ls /var/lib/docker").split())
    starts = host.check_output("journalctl -o cat -u docker.service | grep -c '^Started docker.service' || true")
    assert int(starts) >= 2
