"""What a migration scenario's verifier asks of a migrated host: the images with the same ids and
tags, the volume's files with the same checksums, a container from each image runs, and the
migration recorded as complete with its backup kept."""

import hashlib
import json

from docker_checks import driver_status

EXPECT = "/root/migration-expect.json"
STATE = "/var/lib/devmapper-storage/migration.json"


def expected(host):
    return json.loads(host.file(EXPECT).content_string)


def volume_checksums(host, volume):
    """{relative path: sha256 or symlink:target} of the volume's files, read on the host."""
    mountpoint = host.check_output("docker volume inspect --format '{{.Mountpoint}}' %s" % volume)
    listing = host.check_output(
        "cd %s && find . -type f -exec sha256sum {} + ; find . -type l -printf 'L %%p %%l\\n'"
        % mountpoint)
    sums = {}
    for line in listing.splitlines():
        if line.startswith("L "):
            dummy, path, target = line.split(" ", 2)
            sums[path[2:]] = "symlink:" + target
        else:
            digest, path = line.split(None, 1)
            sums[path.strip()[2:]] = digest
    return sums


def check_images_kept(host):
    for tag, image_id in expected(host)["images"].items():
        assert host.check_output("docker image inspect --format '{{.Id}}' %s" % tag) == image_id


def check_volume_files_kept(host):
    want = expected(host)
    have = volume_checksums(host, want["volume"])
    assert have == want["files"]
    assert len(have) >= 4


def check_container_from_each_image_runs(host):
    for tag in expected(host)["images"]:
        out = host.check_output("docker run --rm --network none -v appdata:/vol %s "
                                "cat /vol/greeting.txt" % tag)
        assert out.strip() == "hello"
    # the committed image kept its own layer
    assert host.check_output("docker run --rm --network none app:1 cat /etc/app-release") == "app-v1"


def check_stopped_container_kept(host):
    """The workload's stopped container `keeper` is back under its name, with its command and
    its volume, and still stopped; started, it does what it did."""
    inspect = json.loads(host.check_output("docker container inspect keeper"))[0]
    assert inspect["Config"]["Cmd"] == ["sh", "-c", "cat /etc/app-release"]
    assert [m["Name"] for m in inspect["Mounts"]] == ["appdata"]
    assert not inspect["State"]["Running"]
    assert host.check_output("docker start --attach keeper").strip() == "app-v1"


def check_migration_recorded(host, target):
    state = json.loads(host.file(STATE).content_string)
    assert state["phase"] == "complete"
    assert state["target"] == target
    assert host.file(state["backup_dir"] + "/docker").is_directory
    assert host.file(state["backup_dir"] + "/export/manifest.json").exists


def check_driver(host, driver):
    assert driver_status(host)[0] == driver


def sha256(data):
    return hashlib.sha256(data).hexdigest()
