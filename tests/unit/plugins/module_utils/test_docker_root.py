"""What a Docker that is not running keeps in its root (module_utils/docker_root.py), read from
a copy of real roots: the listing of /var/lib/docker captured in guests after Docker stopped,
made again as empty files and directories in a temporary directory. Docker on its own loop-lvm
pool with an image and a container (fixture docker_root), then on overlay2 with one more of each
(docker_root_overlay2)."""

import json
import os

from ansible_collections.devmapper.storage.plugins.module_utils import docker_root as r
from captured import output

ROOT = "/var/lib/docker"


def rebuilt(state, tmp_path):
    """The captured root as directories and empty files under tmp_path (an entry with entries
    under it is a directory)."""
    paths = output(state, "find /var/lib/docker")["stdout"].splitlines()
    dirs = set(os.path.dirname(p) for p in paths)
    for path in paths:
        local = str(tmp_path) + path
        if path in dirs:
            os.makedirs(local, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(local), exist_ok=True)
            open(local, "w").close()
    return str(tmp_path) + ROOT


def test_dockers_own_loop_pool_is_found_in_a_stopped_dockers_root(tmp_path):
    stopped = output("docker_root", "systemctl is-active --quiet docker.service")
    assert stopped["rc"] != 0
    config = json.loads(output("docker_root", "cat /etc/docker/daemon.json")["stdout"])
    found = r.read_root(rebuilt("docker_root", tmp_path))
    assert found["images"] == {"devicemapper": 1} and found["containers"] == 1
    assert found["dm_metadata"] and found["dm_loop_files"]
    assert r.configured_pool(config) is None
    conflict = r.offline_conflict(found, config, "devicemapper", "docker-thinpool")
    assert conflict["kind"] == "pool"
    assert "belongs to Docker's own loop-lvm pool" in conflict["reason"]
    assert "with 1 images and 1 containers; pointing it at pool docker-thinpool" in \
        conflict["reason"]
    # daemon.json naming the pool the role makes: nothing to refuse
    ours = dict(config, **{"storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool"]})
    assert r.offline_conflict(found, ours, "devicemapper", "docker-thinpool") is None
    # the overlay2 migration's target: another driver
    assert r.offline_conflict(found, config, "overlay2", "")["kind"] == "driver"


def test_another_drivers_images_in_a_stopped_dockers_root(tmp_path):
    """The same root after Docker ran on overlay2 (its default) with an image and a container
    of its own: both drivers' images are there, and the containers of both."""
    found = r.read_root(rebuilt("docker_root_overlay2", tmp_path))
    assert found["images"] == {"devicemapper": 1, "overlay2": 1} and found["containers"] == 2
    conflict = r.offline_conflict(found, {}, "devicemapper", "docker-thinpool")
    assert conflict == {"kind": "driver", "reason": (
        "Docker is not running, and %s holds 1 images of the overlay2 driver (and 2 containers); "
        "switching it to devicemapper would hide them all" % found["root"])}
    # to overlay2, the devicemapper driver's image would be hidden
    assert r.offline_conflict(found, {}, "overlay2", "")["reason"].startswith(
        "Docker is not running, and %s holds 1 images of the devicemapper driver" % found["root"])


def test_the_root_is_where_daemon_json_puts_it():
    assert r.root_of({}) == ROOT
    assert r.root_of({"data-root": "/srv/docker"}) == "/srv/docker"
    assert r.root_of({"graph": "/old/docker"}) == "/old/docker"
