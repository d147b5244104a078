"""Verifier of the migrate scenario: loop-lvm to direct-lvm, nothing lost."""

from docker_checks import driver_status
from migration_checks import (check_container_from_each_image_runs, check_images_kept,
                              check_migration_recorded, check_stopped_container_kept,
                              check_volume_files_kept)


def test_docker_runs_on_the_direct_lvm_pool(host):
    driver, status = driver_status(host)
    assert driver == "devicemapper"
    assert status["Pool Name"] == "docker-thinpool"
    # the pool is now an LVM thin pool on the second disk, not the loop files
    assert host.check_output("lvs --noheadings -o lv_attr docker/thinpool").strip().startswith("t")
    assert "loop" not in host.check_output("dmsetup deps -o devname docker-thinpool")
    assert host.check_output("pvs --noheadings -o pv_name -S vg_name=docker").strip() == "/dev/ubdb"


def test_images_have_their_ids_and_tags(host):
    check_images_kept(host)


def test_volume_files_have_their_checksums(host):
    check_volume_files_kept(host)


def test_a_container_from_each_image_runs(host):
    check_container_from_each_image_runs(host)


def test_the_stopped_container_is_back(host):
    check_stopped_container_kept(host)


def test_migration_is_recorded_and_backup_kept(host):
    check_migration_recorded(host, "direct_lvm")
    # the old pool's files stay until the operator removes them
    assert host.file("/var/lib/docker-loop/data").exists


def test_docker_and_the_pool_come_back_at_boot(host):
    assert host.check_output("systemctl is-enabled docker.service") == "enabled"
    conf = host.file("/etc/devmapper-storage/pools/docker-thinpool.conf").content_string
    assert "lvm" in conf
