"""Verifier of the migrate_overlay2 scenario: direct-lvm (devicemapper) to overlay2, nothing lost."""

from docker_checks import driver_status
from migration_checks import (check_container_from_each_image_runs, check_images_kept,
                              check_migration_recorded, check_stopped_container_kept,
                              check_volume_files_kept)


def test_docker_runs_on_overlay2(host):
    driver, status = driver_status(host)
    assert driver == "overlay2"
    assert status["Backing Filesystem"] in ("extfs", "xfs")
    # Docker no longer waits for the pool at boot
    assert not host.file("/etc/systemd/system/docker.service.d/10-devmapper-pool.conf").exists


def test_images_have_their_ids_and_tags(host):
    check_images_kept(host)


def test_volume_files_have_their_checksums(host):
    check_volume_files_kept(host)


def test_a_container_from_each_image_runs(host):
    check_container_from_each_image_runs(host)


def test_the_stopped_container_is_back(host):
    check_stopped_container_kept(host)


def test_migration_is_recorded_and_backup_kept(host):
    check_migration_recorded(host, "overlay2")
    # the pool that holds the backup's image data is still there
    assert host.check_output("lvs --noheadings -o lv_attr docker/thinpool").strip().startswith("t")
