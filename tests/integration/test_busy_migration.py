"""playbooks/migrate.yml on a busy host that the collection did not set up the way it likes:
live-restore on, a container writing to a volume until the moment it is stopped, a stopped
container with files in its writable layer, a web server with a restart policy and a published
port on a user-defined network (Docker's bridge networking on), docker.service a real file in /etc
(it cannot be masked), the target VG already there and holding another LV that is mounted, and a
leaked mount under /var/lib/docker.

- A container that joins another's network namespace (by id) is refused before anything changes.
- With the leaked mount, the stop step refuses after it stopped the containers and Docker, and
  the rollback brings Docker and the writer back; the mount's file is untouched.
- A failure injected at the last step rolls back without touching the VG's other LV (only the
  pool the migration made is removed) and the writer runs again.
- loop-lvm -> direct-lvm, then devicemapper -> overlay2: every line the writer wrote before it
  was stopped is in the volume afterwards (a witness file outside Docker gets each line after the
  volume: its lines are in the volume's, in order), no container of the old Docker is left
  running, nothing of the old storage is left mounted, and every container is back: its settings
  (docker inspect's Config, HostConfig and networks, but ALLOWED_TO_DIFFER) and its files (the
  listing of docker export) as before, running if it ran; after a reboot the restart policies
  bring them back and the port answers.
"""

import json
import math

import pytest

import migration_host
from conftest import run_playbook, saved_guest
from migration_host import MIGRATION_VARS, failures

BUSY_VARS = dict(MIGRATION_VARS, direct_lvm_data_size="60%VG", direct_lvm_metadata_size="2%VG",
                 docker_daemon_options={"iptables": False, "live-restore": True})
# What may differ between a container and its re-creation (documented in
# module_utils/migration/containers.py): the image, when the writable layer travelled as a
# committed one. And a setting left unset (null) may read back as its zero value (Docker 20.10
# stores OomKillDisable null as false): compared as unset.
ALLOWED_TO_DIFFER = {("Config", "Image")}
# Files Docker itself puts into every container
DOCKER_FILES = (".dockerenv", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab")
BUSY = r"""
set -e
# docker.service as a real file in /etc (as some distributions' packages or admins leave it)
cp /lib/systemd/system/docker.service /etc/systemd/system/docker.service
python3 - <<'PY'
import json
path = "/etc/docker/daemon.json"
config = json.load(open(path))
config["live-restore"] = True
config.pop("bridge", None)
json.dump(config, open(path, "w"), indent=2)
PY
systemctl daemon-reload
systemctl restart docker
# the target VG is there already, with another LV in use
pvcreate -q /dev/ubdb
vgcreate -q docker /dev/ubdb
lvcreate -q -y -n other -L 64M docker
mkfs.ext4 -q /dev/docker/other
mkdir -p /srv/other /srv/witness
mount /dev/docker/other /srv/other
echo kept > /srv/other/file
docker volume create busydata >/dev/null
docker network create --label purpose=busy appnet >/dev/null
docker run -d --name web --restart unless-stopped -p 8080:80 --network appnet --network-alias www \
  -e GREETING=hello --label role=web --memory 64m --log-opt max-size=1m --stop-timeout 5 app:1 \
  sh -c 'mkdir -p /www && echo hello-web > /www/index.html && exec busybox httpd -f -p 80 -h /www' \
  >/dev/null
docker run --name layered --network none --user 0 --workdir /etc app:1 sh -c '
  echo added > /added; echo changed > /etc/app-release; busybox rm /bin/find
  busybox ln -s /added /link; echo secret > /secret; busybox chown 1000:1000 /secret
  busybox chmod 0600 /secret' >/dev/null
"""
WRITER = ("docker run -d --name writer --restart always --network none -v busydata:/data "
          "-v /srv/witness:/witness "
          "app:1 sh -c 'i=0; while :; do i=$((i+1)); echo $i >> /data/log; "
          "echo $i >> /witness/log; sleep 0.1; done'")
OLD_WRITERS = "ps -eo args | grep -c '[w]itness/log' || true"


def migrate(lab, guest, **extra):
    return run_playbook(lab.inventory_path, "playbooks/migrate.yml", limit=guest.name,
                        extra_vars=dict(BUSY_VARS, **extra))


def msgs(report, guest):
    return " ".join(msg or "" for dummy, msg in failures(report, guest))


def volume_log(guest):
    mp = guest.out("docker volume inspect --format '{{.Mountpoint}}' busydata").strip()
    return guest.out("cat %s/log" % mp).split()


def assert_every_line_kept(guest):
    """The witness gets each line after the volume: its lines are the volume's, in order (the
    volume may hold one line more, written just before a stop)."""
    witness = guest.out("cat /srv/witness/log").split()
    volume = iter(volume_log(guest))
    assert len(witness) > 20, witness
    missing = [line for line in witness if not any(line == v for v in volume)]
    assert missing == [], missing[:5]


def settings(guest):
    """{name: (Config, HostConfig, networks and their aliases, running)}."""
    found = {}
    for c in json.loads(guest.out("docker container inspect $(docker container ls -aq)")):
        parts = {}
        for section in ("Config", "HostConfig"):
            parts[section] = dict((k, v or None) for k, v in c[section].items()
                                  if (section, k) not in ALLOWED_TO_DIFFER)
        # Docker adds the short id and the hostname (for one without --hostname, the id it was
        # created with, which is kept) to the aliases by itself
        own = (c["Id"][:12], c["Config"]["Hostname"])
        parts["Networks"] = dict(
            (name, sorted(a for a in (e.get("Aliases") or []) if a not in own))
            for name, e in c["NetworkSettings"]["Networks"].items())
        parts["Running"] = c["State"]["Running"]
        found[c["Name"].lstrip("/")] = parts
    return found


def files(guest, name):
    """The listing of docker export: names, modes, owners, sizes, link targets (not the times:
    Docker makes the mount points anew)."""
    listing = guest.out("docker export %s | tar -tv --numeric-owner" % name).splitlines()
    kept = []
    for line in listing:
        fields = line.split(None, 5)
        if len(fields) == 6 and not any(fields[5] in (f, "./" + f) for f in DOCKER_FILES):
            kept.append(" ".join(fields[:3] + fields[5:]))
    return sorted(kept)


def web_answers(guest):
    """The published port answers from the web container (which may have just started)."""
    answer = guest.out("for i in $(seq 30); do busybox wget -qO- http://127.0.0.1:8080/ && exit; "
                       "sleep 1; done; true").strip()
    if answer != "hello-web":
        print(guest.out("set +e; docker ps -a; docker logs web 2>&1 | tail; cat /etc/docker/daemon.json; "
                        "docker inspect --format '{{json .NetworkSettings}}' web; ip -br addr; "
                        "ss -ltnp; docker network ls; ps -eo pid,args | grep -i [p]roxy; true"))
    return answer == "hello-web"


def assert_containers_back(guest, before, before_files):
    after = settings(guest)
    assert sorted(after) == sorted(before)
    for name in before:
        for part in before[name]:
            assert after[name][part] == before[name][part], (name, part)
    for name, listing in before_files.items():
        assert files(guest, name) == listing, name
    assert web_answers(guest)


def assert_writer_runs(guest):
    before = len(guest.out("cat /srv/witness/log").split())
    guest.sh("sleep 2")
    assert guest.out("docker inspect --format '{{.State.Running}}' writer").strip() == "true"
    assert len(guest.out("cat /srv/witness/log").split()) > before


@pytest.fixture
def busy(lab):
    guest = saved_guest(lab, migration_host.key(), migration_host.SPEC,
                        lambda handle: migration_host.converge_loop_host(lab, handle))
    try:
        guest.sh(BUSY)
        guest.sh(WRITER)
        yield guest
    finally:
        if guest.name in lab.guests:
            lab.remove_guest(lab.guest(guest.name))


@pytest.mark.saved_guest("migration-loop-host")
def assert_one_module_run_while_docker_was_down(guest):
    """The downtime (first container stop to Docker's start, as the state file records it) is
    one module run: no Ansible module was invoked on the host within it (each invocation logs
    'Invoked with' to the journal)."""
    state = json.loads(guest.out("cat /var/lib/devmapper-storage/migration.json"))
    began, started = state["downtime_began_at"], state["finished_at"]["start"]
    assert 0 < started - began < 120, state
    invoked = guest.out("journalctl --no-pager --since @%d --until @%d | grep 'Invoked with' "
                        "|| true" % (math.ceil(began), math.floor(started))).strip()
    assert invoked == "", invoked


def test_a_busy_host_migrates_twice_with_every_write_kept(lab, busy):
    guest = busy
    expect = json.loads(guest.out("cat /root/migration-expect.json"))
    assert web_answers(guest)
    before_files = dict((name, files(guest, name)) for name in ("layered", "web"))
    assert any(line.startswith("-rw------- 1000/1000") and line.endswith("secret")
               for line in before_files["layered"]), before_files["layered"]

    # a container that names another by id cannot be carried: refused, nothing changed
    guest.sh("docker create --name joined --network container:web app:1 sleep 1 >/dev/null")
    rc, report = migrate(lab, guest)
    assert rc != 0
    assert "joined" in msgs(report, guest) and "drop_uncarriable_containers" in msgs(report, guest)
    assert "loop" in guest.out("dmsetup deps -o devname docker-thinpool")
    assert_writer_runs(guest)
    guest.sh("docker rm joined >/dev/null")
    before = settings(guest)

    # a leaked mount under Docker's directory: refused once Docker is down, and rolled back
    guest.sh("mkdir -p /var/lib/docker/leak && mount -t tmpfs tmpfs /var/lib/docker/leak && "
             "echo mine > /var/lib/docker/leak/file")
    rc, report = migrate(lab, guest)
    assert rc != 0
    assert "still mounted under /var/lib/docker" in msgs(report, guest), msgs(report, guest)
    assert "/var/lib/docker/leak" in msgs(report, guest) and "rolled back" in msgs(report, guest)
    assert guest.out("cat /var/lib/docker/leak/file").strip() == "mine"
    assert "loop" in guest.out("dmsetup deps -o devname docker-thinpool")
    assert_writer_runs(guest)
    guest.sh("umount /var/lib/docker/leak && rmdir /var/lib/docker/leak")

    # a failure at the last step: the rollback removes the pool it made, not the VG's other LV
    rc, report = migrate(lab, guest, storage_migration_fault_point="fail:verify")
    assert rc != 0 and "rolled back" in msgs(report, guest), msgs(report, guest)
    assert guest.out("lvs --noheadings -o lv_name docker").split() == ["other"]
    assert guest.out("cat /srv/other/file").strip() == "kept"
    assert "loop" in guest.out("dmsetup deps -o devname docker-thinpool")
    assert guest.out("systemctl is-active docker").strip() == "active"
    assert_writer_runs(guest)

    # loop-lvm -> direct-lvm, live-restore on, the writer writing until it is stopped
    rc, report = migrate(lab, guest)
    assert rc == 0, failures(report, guest)
    assert "loop" not in guest.out("dmsetup deps -o devname docker-thinpool")
    assert sorted(guest.out("lvs --noheadings -o lv_name docker").split()) == ["other", "thinpool"]
    assert_every_line_kept(guest)
    assert guest.out(OLD_WRITERS).strip() == "1"      # the writer re-created, and no other
    assert guest.out("grep -c ' /var/lib/docker-migration' /proc/self/mountinfo || true") \
        .strip() == "0"
    assert_containers_back(guest, before, before_files)
    assert_one_module_run_while_docker_was_down(guest)
    assert guest.out("docker volume inspect --format '{{.Labels}}' appdata").strip() == \
        "map[purpose:migration-test]"
    for tag, image_id in expect["images"].items():
        assert guest.out("docker image inspect --format '{{.Id}}' %s" % tag).strip() == image_id

    # devicemapper -> overlay2, the re-created writer writing until it is stopped again
    rc, report = migrate(lab, guest, storage_migration_target="overlay2",
                         storage_migration_backup_dir="/var/lib/docker-migration-2")
    assert rc == 0, failures(report, guest)
    assert guest.out("docker info --format '{{.Driver}}'").strip() == "overlay2"
    assert_every_line_kept(guest)
    assert guest.out(OLD_WRITERS).strip() == "1"
    assert guest.out("grep -c 'docker-thinpool' /proc/self/mountinfo || true").strip() == "0"
    assert guest.out("cat /srv/other/file").strip() == "kept"
    assert_containers_back(guest, before, before_files)

    # the restart policies hold after a reboot
    guest.reboot()
    assert web_answers(guest)
    guest.sh("for i in $(seq 30); do [ \"$(docker inspect --format '{{.State.Running}}' writer)\" "
             "= true ] && exit; sleep 1; done")
    assert_containers_back(guest, before, before_files)
