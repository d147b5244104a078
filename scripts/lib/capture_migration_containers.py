"""Capture what a migration carries of containers: `docker container inspect` of containers set
up with every field the migration keeps (command, entrypoint, env, labels, user, working dir,
hostname, a volume and a bind mount, restart policy, a user-defined network with an alias, a
published port, resource limits, a log driver and its options), a stopped container with files
in its writable layer, and one that joins another's network namespace (which cannot be carried:
it names the other container by id); `docker network inspect` of the user-defined network and
`docker diff` of each container.

Usage: capture_migration_containers.py LAB GUEST
  e.g. testhost -l ex up -g ex1:2G%bookworm; then this (Docker is started with live-restore on)
Writes tests/unit/fixtures/migration_containers.json ({"commands": [{command, rc, stdout,
stderr}], "versions": [...]}, as tests/unit/captured.py reads it)."""

import sys

from guest_capture import GuestCapture, write_fixture
from testhost import lab as lab_mod

LAB = lab_mod.Lab(sys.argv[1])
CAPTURE = GuestCapture(LAB, LAB.guest(sys.argv[2]))
sh, must = CAPTURE.sh, CAPTURE.must
SETUP = r"""
set -e
mkdir -p /etc/docker /srv/bound
[ -s /etc/docker/daemon.json ] || echo '{"iptables": false, "live-restore": true}' > /etc/docker/daemon.json
systemctl start docker
for c in web layered joined; do docker rm -f $c >/dev/null 2>&1 || true; done
docker network rm appnet >/dev/null 2>&1 || true
docker image inspect cap:1 >/dev/null 2>&1 || {
  d=$(mktemp -d); mkdir -p $d/bin $d/tmp $d/www $d/etc
  cp /bin/busybox $d/bin/; for t in sh echo cat ls sleep httpd rm ln chown chmod; do ln -s busybox $d/bin/$t; done
  echo hi > $d/www/index.html; echo one > $d/etc/modified; echo gone > $d/etc/deleted
  tar -C $d -cf /root/cap.tar .; rm -rf $d; docker import /root/cap.tar cap:1; }
docker volume create --label purpose=capture capdata >/dev/null
docker network create --label purpose=capture --subnet 172.30.0.0/16 appnet >/dev/null
docker run -d --name web --hostname webhost --restart unless-stopped -p 8080:80 \
  --network appnet --network-alias www -e A=1 -e B=two --label role=web --user 0:0 \
  --workdir /www --memory 64m --cpu-shares 512 --pids-limit 100 --stop-timeout 7 \
  --log-driver json-file --log-opt max-size=1m -v capdata:/data -v /srv/bound:/bound \
  --entrypoint /bin/httpd cap:1 -f -p 80 -h /www >/dev/null
docker run --name layered --network none cap:1 sh -c \
  'echo added > /added; echo two > /etc/modified; rm /etc/deleted; ln -s /added /link
   echo secret > /secret; chown 1000:1000 /secret; chmod 0600 /secret' >/dev/null
docker create --name joined --network container:web cap:1 sleep 1000 >/dev/null
"""
READ = ("docker container inspect web layered joined", "docker network inspect appnet",
        "docker diff layered", "docker diff web", "docker volume inspect capdata")


def main():
    must(SETUP)
    records = [must(command) for command in READ]
    versions = [sh(c) for c in ("cat /etc/debian_version", "docker version --format "
                                "'{{.Server.Version}} {{.Server.APIVersion}}'")]
    write_fixture("migration_containers", records, versions)


if __name__ == "__main__":
    main()
