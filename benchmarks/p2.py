"""P2: Docker's downtime in a loop-lvm -> direct-lvm migration (playbooks/migrate.yml) / the same
in Docker's devicemapper runbook done by hand, on the same guest with the same workload; median of
3 runs, each on a new guest booted from one saved after the converge and the workload."""

import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from bench import guest, sh, slowest, task_summary, timed_playbook

RUNS = 3
GROUP = "p2_bench"

# Docker's devicemapper page, direct-lvm by hand, on the guest's second disk: stop Docker, move
# its directory aside, make the pool, the profile, monitoring, point daemon.json at the pool, start
# Docker; then load the images saved beforehand (the runbook itself loses them). The loop pool must
# go first because the new pool takes its device name, and the collection's boot drop-in must go
# because it would bring the loop pool back: a person following the runbook on this host does both.
RUNBOOK = r"""
set -e
docker save -o /root/p2-images.tar \
    $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>')
docker ps --format '{{.Names}}' > /root/p2-running.txt
cp /etc/docker/daemon.json /root/p2-daemon.json
cp /etc/systemd/system/docker.service.d/10-devmapper-pool.conf /root/p2-dropin.conf
sync
echo T0 $(date +%s.%N)
systemctl stop docker docker.socket
mv /var/lib/docker /var/lib/docker.bk
rm /etc/systemd/system/docker.service.d/10-devmapper-pool.conf
systemctl daemon-reload
dmsetup remove docker-thinpool
losetup -D
pvcreate -q DISK
vgcreate -q docker DISK
lvcreate -q --wipesignatures y -n thinpool docker -l 95%VG
lvcreate -q --wipesignatures y -n thinpoolmeta docker -l 1%VG
lvconvert -q -y --zero n -c 512K --thinpool docker/thinpool --poolmetadata docker/thinpoolmeta
cat > /etc/lvm/profile/docker-thinpool.profile <<'EOF'
activation {
  thin_pool_autoextend_threshold=80
  thin_pool_autoextend_percent=20
}
EOF
lvchange -q --metadataprofile docker-thinpool docker/thinpool
lvs -o+seg_monitor docker/thinpool
python3 - <<'EOF'
import json
d = json.load(open("/etc/docker/daemon.json"))
d["storage-driver"] = "devicemapper"
d["storage-opts"] = ["dm.thinpooldev=/dev/mapper/docker-thinpool", "dm.use_deferred_removal=true",
                     "dm.use_deferred_deletion=true"]
json.dump(d, open("/etc/docker/daemon.json", "w"))
EOF
systemctl start docker
echo T1 $(date +%s.%N)
docker load -q -i /root/p2-images.tar
echo T2 $(date +%s.%N)
"""

# Back to the loop pool as site.yml left it, with the containers that ran running again, so that
# the migration starts from the same host.
RUNBOOK_UNDO = r"""
set -e
systemctl stop docker docker.socket
lvremove -q -y docker
vgremove -q -y docker
pvremove -q -y DISK
wipefs -q -a DISK
rm -f /etc/lvm/profile/docker-thinpool.profile
rm -rf /var/lib/docker
mv /var/lib/docker.bk /var/lib/docker
cp /root/p2-daemon.json /etc/docker/daemon.json
cp /root/p2-dropin.conf /etc/systemd/system/docker.service.d/10-devmapper-pool.conf
systemctl daemon-reload
systemctl restart devmapper-pool@docker-thinpool
systemctl start docker
if [ -s /root/p2-running.txt ]; then docker start $(cat /root/p2-running.txt) > /dev/null; fi
docker info --format '{{.Driver}} {{json .DriverStatus}}'
"""

# What the migration has to carry: images (tags, distinct ids), MiB in named volumes (du on their
# mount points), containers running and stopped.
WORKLOAD = r"""
vols=$(docker volume ls -q)
echo tags=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -vc '<none>') \
    ids=$(docker images -q | sort -u | wc -l) volumes=$(echo $vols | wc -w) \
    mib=$(du -smc $(docker volume inspect --format '{{.Mountpoint}}' $vols) | tail -1 | cut -f1) \
    running=$(docker ps -q | wc -l) all=$(docker ps -aq | wc -l)
"""


def workload(lab, name):
    found = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", guest(lab, name, WORKLOAD)))
    return ("%(tags)d image tags of %(ids)d distinct images, %(mib)d MiB in %(volumes)d named "
            "volumes, %(running)d container(s) running and %(stopped)d stopped"
            % dict(found, stopped=found["all"] - found["running"]))


def docker_down_window(lab, name, since, began=None):
    """(first stop, last 'Started' of docker.service) in the guest's journal after ``since``
    (seconds since the epoch): how long Docker did not serve. The first stop is the first
    'Stopping' of docker.service, or ``began`` (when a container was first stopped) if earlier."""
    out = guest(lab, name, "journalctl -u docker.service -o short-unix --no-pager --since @%d"
                % int(since))
    stopping = started = None
    for line in out.splitlines():
        match = re.match(r"([\d.]+) \S+ systemd\[1\]: (Stopping|Started) (docker\.service|Docker)",
                         line)
        if not match:
            continue
        if match.group(2) == "Stopping" and stopping is None:
            stopping = float(match.group(1))
        elif match.group(2) == "Started":
            started = float(match.group(1))
    if began is not None:
        stopping = began if stopping is None else min(stopping, began)
    if stopping is None or started is None or started < stopping:
        raise RuntimeError("no stop and start of docker.service in the journal:\n%s" % out)
    return stopping, started


def one_run(lab, inventory, name):
    """The runbook (and its undo), then migrate.yml, on the guest ``name``; the figures."""
    timed_playbook(inventory, "benchmarks/p2_workload.yml", limit=name)   # ticker runs again
    fig = {"workload": workload(lab, name)}

    since = time.time() - 1
    out = guest(lab, name, RUNBOOK.replace("DISK", "/dev/ubdc"))
    marks = dict((m.group(1), float(m.group(2)))
                 for m in re.finditer(r"^(T\d) ([\d.]+)$", out, re.M))
    bare_stop, bare_start = docker_down_window(lab, name, since)
    fig["bare_down"] = bare_start - bare_stop
    fig["bare_images"] = marks["T2"] - bare_stop
    undo = guest(lab, name, RUNBOOK_UNDO.replace("DISK", "/dev/ubdc"))
    if "docker-thinpool" not in undo or "devicemapper" not in undo:
        raise RuntimeError("P2: the loop pool did not come back after the runbook: %s" % undo)
    fig["before_migration"] = workload(lab, name)

    since = time.time() - 1
    run = timed_playbook(inventory, "playbooks/migrate.yml",
                         ["-e", "storage_migration_target=direct_lvm",
                          "-e", '{"direct_lvm_devices": ["/dev/ubdb"]}'], limit=name)
    state = json.loads(guest(lab, name, "cat /var/lib/devmapper-storage/migration.json"))
    mig_stop, mig_start = docker_down_window(lab, name, since, state.get("downtime_began_at"))
    finished = state.get("finished_at", {})
    fig["mig_down"] = mig_start - mig_stop
    fig["mig_images"] = finished["import"] - mig_stop
    fig["after_migration"] = workload(lab, name)
    fig["opened_by"] = ("the first container stop" if state.get("downtime_began_at") == mig_stop
                        else "docker.service's first Stopping")
    fig["down_ratio"] = fig["mig_down"] / fig["bare_down"]
    fig["images_ratio"] = fig["mig_images"] / fig["bare_images"]
    window = (mig_stop, mig_start)
    fig["profile"] = [
        "P2 profile (run %s): migrate.yml took %.1f s in all; while Docker was down (%.1f s, "
        "from %s): %s. Slowest tasks that ran while it was down:"
        % (name, run.seconds, fig["mig_down"], fig["opened_by"], task_summary(run.tasks, window))
    ] + slowest(run.tasks, window=window) + [
        "P2 the steps' records (seconds after the downtime began): %s" % ", ".join(
            "%s %.1f" % (step, finished[step] - mig_stop) for step in state["done"]
            if step in finished and finished[step] >= mig_stop)]
    return fig


def power_off(lab, name, timeout=120):
    """testhost takes down only whole labs: a guest that is done with is powered off (it stays
    in the lab, stopped, until the lab goes) so that it takes no core from the next run."""
    try:
        guest(lab, name, "systemctl poweroff --no-block")
    except subprocess.CalledProcessError:
        pass            # gone already, or ssh cut by the power-off: the status says which
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = json.loads(sh(["testhost", "-l", lab, "status", "--json"]))["guests"]
        if not [r for r in rows if r["name"] == name and r["running"]]:
            return
        time.sleep(1)


def p2(lab, inventory, report, profile, base="p2"):
    """Converge ``base`` on loop-lvm, make the workload, save the guest; then RUNS times: boot a
    guest from it, measure the runbook and the migration there, power it off."""
    timed_playbook(inventory, "playbooks/site.yml",
                   ["-e", "site_loop_lvm_hosts=" + base, "-e", "site_direct_lvm_hosts=none"],
                   limit=base)
    timed_playbook(inventory, "molecule/shared/migration_workload.yml", limit=base)
    timed_playbook(inventory, "benchmarks/p2_workload.yml", limit=base)
    names = ["%sr%d" % (base, number) for number in range(1, RUNS + 1)]
    rows = json.loads(sh(["testhost", "-l", lab, "status", "--json"]))["guests"]
    there = [r["name"] for r in rows if r["name"] in names]
    if there:
        raise RuntimeError("P2: lab %s has guests %s from an earlier run already: take it down"
                           % (lab, ", ".join(there)))
    saved = tempfile.mkdtemp(prefix="bench-p2-", dir="/var/tmp")
    runs = []
    try:
        sh(["testhost", "-l", lab, "save", base, os.path.join(saved, base)])
        power_off(lab, base)
        for number, name in enumerate(names, 1):
            sh(["testhost", "-l", lab, "up", "-g",
                "%s=%s@%s" % (name, os.path.join(saved, base), GROUP)])
            try:
                fig = one_run(lab, inventory, name)
            finally:
                power_off(lab, name)
            runs.append(fig)
            if number == 1:
                report("P2 workload: %s" % fig["workload"])
            elif fig["workload"] != runs[0]["workload"]:
                report("P2 WARNING: run %d started from another workload: %s"
                       % (number, fig["workload"]))
            report("P2 run %d: Docker down %.1f s migrate.yml (from %s) / %.1f s runbook = %.2f; "
                   "images back %.1f s / %.1f s = %.2f" % (
                       number, fig["mig_down"], fig["opened_by"], fig["bare_down"],
                       fig["down_ratio"], fig["mig_images"], fig["bare_images"],
                       fig["images_ratio"]))
            if fig["after_migration"] != fig["before_migration"]:
                report("P2 WARNING: run %d: before the migration %s; after it %s"
                       % (number, fig["before_migration"], fig["after_migration"]))
    finally:
        shutil.rmtree(saved, ignore_errors=True)

    def median(key):
        return statistics.median(fig[key] for fig in runs)
    report("P2 Docker downtime, migrate.yml / bare runbook: %.2f  (median of %d: %.1f s / %.1f s; "
           "goal <= 1.0)" % (median("down_ratio"), len(runs), median("mig_down"),
                             median("bare_down")))
    report("P2 until the images are back (docker load done), migrate.yml / bare runbook + docker "
           "load: %.2f  (median of %d: %.1f s / %.1f s; goal <= 1.0; the migration also carries "
           "the volumes and the containers, which the runbook loses)"
           % (median("images_ratio"), len(runs), median("mig_images"), median("bare_images")))
    profile.extend(runs[-1]["profile"])
