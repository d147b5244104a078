"""Capture what docker_container_filesystems reads, for its unit tests: on a guest where Docker
runs on a devicemapper pool (site.yml's loop_lvm, as tests/integration/test_recover_full.py
makes it), four containers of a busybox image: one as it runs, one whose root filesystem is shut
down the way a failed metadata write shuts XFS down (xfs_io -x -c shutdown), one whose
filesystem was remounted read-only (what ext4's errors=remount-ro does), and one started with
--read-only. Recorded: `docker container
inspect` of all four, each one's /proc/PID/mountinfo, what listing /proc/PID/root gives (the error's
text), dockerd's mount table, and after `docker stop` of the shut-down one, dockerd's mount table
once its device is unmounted. The containers are removed again.

Usage: capture_container_filesystems.py LAB GUEST
  e.g. testhost -l cap up -g cf:2G@loop_lvm%bookworm; site.yml on it; then this
Writes tests/unit/fixtures/container_filesystems.json."""

import json
import os
import sys

from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "tests", "unit", "fixtures", "container_filesystems.json")
MAKE = r"""set -e
d=$(mktemp -d); mkdir -p $d/bin $d/tmp $d/etc
cp /bin/busybox $d/bin/
for t in sh ls sleep; do ln -s busybox $d/bin/$t; done
tar -C $d -cf /root/cf.tar .; rm -rf $d
docker import /root/cf.tar cf:1 >/dev/null
docker run -d --name cf-fine --network none cf:1 sleep 100000 >/dev/null
docker run -d --name cf-down --network none cf:1 sleep 100000 >/dev/null
docker run -d --name cf-ro --network none cf:1 sleep 100000 >/dev/null
docker run -d --name cf-readonly --read-only --network none cf:1 sleep 100000 >/dev/null
xfs_io -x -c shutdown /proc/$(docker inspect --format '{{.State.Pid}}' cf-down)/root/
# what ext4's errors=remount-ro does to a filesystem: its superblock read-only
dev=$(docker inspect --format '{{.GraphDriver.Data.DeviceName}}' cf-ro)
mount -o remount,ro "$(findmnt -n -o TARGET --source /dev/mapper/$dev | head -1)"
"""
LIST = ("python3 -c 'import os, sys\ntry:\n    os.listdir(sys.argv[1]); print(\"\")\n"
        "except OSError as e:\n    print(e.strerror)' /proc/%s/root/")
CLEAN = "docker rm -f cf-fine cf-down cf-ro cf-readonly; docker rmi cf:1; rm -f /root/cf.tar"


def sh(command, stdin=None, check=True):
    proc = LAB.run(GUEST, command, timeout=600, input_text=stdin)
    if check and proc.returncode:
        raise SystemExit("%s: rc %d\n%s\n%s" % (command, proc.returncode, proc.stdout,
                                                proc.stderr))
    return proc.stdout


def main():
    try:
        sh("bash -s", MAKE)
        inspect = json.loads(sh("docker container inspect cf-fine cf-down cf-ro cf-readonly"))
        probes = {}
        for container in inspect:
            pid = container["State"]["Pid"]
            probes[container["Name"].lstrip("/")] = {
                "mountinfo": sh("cat /proc/%d/mountinfo" % pid),
                "listing_error": sh(LIST % pid).strip()}
        dockerd = sh("cat /proc/$(cat /run/docker.pid)/mountinfo")
        sh("docker stop --time 1 cf-down")
        device = [c for c in inspect if c["Name"] == "/cf-down"][0]["GraphDriver"]["Data"][
            "DeviceName"]
        sh("for i in $(seq 60); do grep -q ' /dev/mapper/%s ' /proc/$(cat /run/docker.pid)/"
           "mountinfo || exit 0; sleep 0.5; done; exit 1" % device)
        dockerd_after = sh("cat /proc/$(cat /run/docker.pid)/mountinfo")
        versions = sh("docker version --format '{{.Server.Version}}'; uname -r")
    finally:
        sh(CLEAN, check=False)
    with open(OUT, "w") as handle:
        json.dump({"inspect": inspect, "probes": probes, "dockerd_mountinfo": dockerd,
                   "dockerd_mountinfo_after_stop": dockerd_after, "versions": versions},
                  handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
