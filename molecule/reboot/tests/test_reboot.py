"""Verifier of the reboot scenario, run after a clean reboot and again after a power cut: the pool
was active before Docker started, and Docker kept its image and stopped container."""

import json

from docker_checks import driver_status


def recorded(host):
    return json.loads(host.file("/root/workload.json").content_string)


def test_pool_unit_ran_before_docker_this_boot(host):
    assert host.service("devmapper-pool@docker-thinpool").is_running or host.run(
        "systemctl is-active devmapper-pool@docker-thinpool").stdout.strip() == "active"
    pool_done = int(host.check_output(
        "systemctl show -P ExecMainExitTimestampMonotonic devmapper-pool@docker-thinpool"))
    docker_started = int(host.check_output(
        "systemctl show -P ExecMainStartTimestampMonotonic docker.service"))
    assert 0 < pool_done <= docker_started
    log = host.check_output("journalctl -b -o cat -u devmapper-pool@docker-thinpool")
    assert "pool docker-thinpool: activated" in log or "already active" in log, log


def test_docker_is_up_on_the_pool(host):
    assert host.service("docker").is_running
    driver, status = driver_status(host)
    assert driver == "devicemapper"
    assert status["Pool Name"] == "docker-thinpool"


def test_same_image_and_container(host):
    ids = recorded(host)
    assert host.check_output("docker image inspect --format '{{.Id}}' reboot:proof") == ids["image"]
    assert host.check_output("docker container inspect --format '{{.Id}}' keeper") == ids["container"]


def test_the_container_starts_and_its_file_survived(host):
    runs_before = int(host.check_output("docker start --attach keeper | wc -l"))
    # the first run wrote one line at converge; each verify adds one, so the file persisted
    assert runs_before >= 2
