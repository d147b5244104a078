"""Benchmarks of issue 6, each a ratio of two times measured in one run on the same lab guests.

P1  no-op re-run of site.yml on converged hosts / a play that gathers the same facts (goal <= 1.3)
P2  Docker downtime in a loop-lvm -> direct-lvm migration (playbooks/migrate.yml) / the runbook's
    bare command sequence run in the same guest (goal <= 1.2); also the time until the images are
    back, for both
P3  sequential write throughput: thin device of direct_lvm's pool / the raw backing disk
    (goal >= 0.9), and loop-lvm pool / direct-lvm pool
P4  site.yml converge wall time on 1, 2, 4 and 8 fresh guests (goal: 8 guests <= 2 x 1 guest)
R1  the fleet report of 10,000 hosts rendered and screenshotted in headless chromium (goal <= 5 s;
    benchmarks/fleet_report.py, no guest)

Where a figure misses its goal, the results say where the time went: the playbook runs are timed
task by task (benchmarks/callback_plugins/task_timer.py) and the slowest tasks are listed.

Usage: benchmarks/run [--keep] [--lab NAME] [--mib N] [--only P1,P2,P3,P4,R1] [--p4-sizes 1,2,4,8]
"""

import argparse
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARS = os.path.join(REPO, "scripts", "lib", "lab-vars.yml")
CALLBACKS = os.path.join(REPO, "benchmarks", "callback_plugins")


def sh(argv, **kw):
    return subprocess.run(argv, cwd=REPO, check=True, universal_newlines=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw).stdout


def guest(lab, name, command):
    return sh(["testhost", "-l", lab, "exec", name, "--", command])


class Timed(object):
    """One timed playbook run: wall seconds, things changed, and the per-task timings."""

    def __init__(self, seconds, changed, tasks, plays, output):
        self.seconds = seconds
        self.changed = changed
        self.tasks = tasks
        self.plays = plays
        self.output = output


def timed_playbook(inventory, playbook, extra=(), limit=None):
    fd, timings = tempfile.mkstemp(prefix="bench-timings-", suffix=".json")
    os.close(fd)
    env = dict(os.environ, TASK_TIMER_FILE=timings, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS,
               ANSIBLE_CALLBACKS_ENABLED="task_timer")
    argv = ["ansible-playbook", "-i", inventory, "-e", "@" + VARS] + list(extra)
    if limit:
        argv += ["--limit", limit]
    start = time.monotonic()
    proc = subprocess.run(argv + [playbook], cwd=REPO, universal_newlines=True, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError("%s failed (rc=%d):\n%s"
                           % (playbook, proc.returncode, proc.stdout[-6000:]))
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", proc.stdout))
    with open(timings) as handle:
        recorded = json.load(handle)
    os.unlink(timings)
    return Timed(seconds, changed, recorded["tasks"], recorded["plays"], proc.stdout)


def slowest(tasks, count=8, window=None):
    """The tasks that took the most time (summed over hosts), as report lines."""
    totals = collections.OrderedDict()
    for row in tasks:
        if window and not window[0] <= row["start"] <= window[1]:
            continue
        key = (row["task"], row["action"])
        total, runs = totals.get(key, (0.0, 0))
        totals[key] = (total + row["seconds"], runs + 1)
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])[:count]
    return ["    %6.1f s  %3d x  %s (%s)" % (total, runs, name, action)
            for (name, action), (total, runs) in ranked]


def task_summary(tasks, window=None):
    rows = [r for r in tasks if not window or window[0] <= r["start"] <= window[1]]
    remote = [r for r in rows if r["action"] not in ("ansible.builtin.set_fact", "set_fact",
                                                     "ansible.builtin.debug", "debug",
                                                     "ansible.builtin.assert", "assert",
                                                     "ansible.builtin.include_role",
                                                     "ansible.builtin.include_tasks",
                                                     "ansible.builtin.meta", "meta")
              and r["status"] != "skipped"]
    return ("%d task results (%d skipped), %d of them remote calls taking %.1f s together"
            % (len(rows), len([r for r in rows if r["status"] == "skipped"]), len(remote),
               sum(r["seconds"] for r in remote)))


def write_seconds(lab, name, device, mib):
    """Seconds to write ``mib`` MiB sequentially with O_DIRECT, as dd reports them."""
    out = guest(lab, name, "dd if=/dev/zero of=%s bs=1M count=%d oflag=direct 2>&1 | tail -1"
                % (device, mib))
    match = re.search(r"copied, ([\d.]+) s", out)
    if not match:
        raise RuntimeError("dd on %s:%s said: %s" % (name, device, out))
    return float(match.group(1))


# -- P2 -------------------------------------------------------------------------------------------

# Docker's devicemapper page, direct-lvm by hand, on the guest's second disk: stop Docker, move
# its directory aside, make the pool, the profile, monitoring, point daemon.json at the pool, start
# Docker; then load the images saved beforehand (the runbook itself loses them). The loop pool must
# go first because the new pool takes its device name, and the collection's boot drop-in must go
# because it would bring the loop pool back: a person following the runbook on this host does both.
RUNBOOK = r"""
set -e
docker save -o /root/p2-images.tar $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>')
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

# Back to the loop pool as site.yml left it, so that the migration starts from the same host.
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
docker info --format '{{.Driver}} {{json .DriverStatus}}'
"""


def docker_down_window(lab, name, since):
    """(first 'Stopping', last 'Started') of docker.service in the guest's journal after
    ``since`` (seconds since the epoch): how long Docker did not serve."""
    out = guest(lab, name, "journalctl -u docker.service -o short-unix --no-pager --since @%d"
                % int(since))
    stopping = started = None
    for line in out.splitlines():
        match = re.match(r"([\d.]+) \S+ systemd\[1\]: (Stopping|Started) (docker\.service|Docker)", line)
        if not match:
            continue
        if match.group(2) == "Stopping" and stopping is None:
            stopping = float(match.group(1))
        elif match.group(2) == "Started":
            started = float(match.group(1))
    if stopping is None or started is None or started < stopping:
        raise RuntimeError("no stop and start of docker.service in the journal:\n%s" % out)
    return stopping, started


def p2(lab, inventory, report, profile):
    name = "p2"
    p2_vars = ["-e", "site_loop_lvm_hosts=p2", "-e", "site_direct_lvm_hosts=none"]
    timed_playbook(inventory, "playbooks/site.yml", p2_vars, limit=name)
    timed_playbook(inventory, "molecule/shared/migration_workload.yml", limit=name)

    since = time.time() - 1
    out = guest(lab, name, RUNBOOK.replace("DISK", "/dev/ubdc"))
    marks = dict((m.group(1), float(m.group(2)))
                 for m in re.finditer(r"^(T\d) ([\d.]+)$", out, re.M))
    bare_stop, bare_start = docker_down_window(lab, name, since)
    bare_down = bare_start - bare_stop
    bare_images = marks["T2"] - bare_stop
    undo = guest(lab, name, RUNBOOK_UNDO.replace("DISK", "/dev/ubdc"))
    if "docker-thinpool" not in undo or "devicemapper" not in undo:
        raise RuntimeError("P2: the loop pool did not come back after the runbook: %s" % undo)

    since = time.time() - 1
    run = timed_playbook(inventory, "playbooks/migrate.yml",
                         ["-e", "storage_migration_target=direct_lvm",
                          "-e", '{"direct_lvm_devices": ["/dev/ubdb"]}'], limit=name)
    mig_stop, mig_start = docker_down_window(lab, name, since)
    state = json.loads(guest(lab, name, "cat /var/lib/devmapper-storage/migration.json"))
    finished = state.get("finished_at", {})
    mig_down = mig_start - mig_stop
    mig_images = finished["import"] - mig_stop
    report("P2 Docker downtime, migrate.yml / bare runbook: %.2f  (%.1f s / %.1f s; goal <= 1.2)"
           % (mig_down / bare_down, mig_down, bare_down))
    report("P2 until the images are back (docker load done), migrate.yml / bare runbook + docker "
           "load: %.2f  (%.1f s / %.1f s; the migration also carries the volumes and the "
           "containers, which the runbook loses)" % (mig_images / bare_images, mig_images, bare_images))
    window = (mig_stop, mig_start)
    profile.append("P2 profile: migrate.yml took %.1f s in all; while Docker was down "
                   "(%.1f s): %s. Slowest tasks while Docker was down:"
                   % (run.seconds, mig_down, task_summary(run.tasks, window)))
    profile.extend(slowest(run.tasks, window=window))
    profile.append("P2 the steps' records (seconds after Docker began to stop): %s" % ", ".join(
        "%s %.1f" % (step, finished[step] - mig_stop) for step in state["done"]
        if step in finished and finished[step] >= mig_stop))


# -- P4 -------------------------------------------------------------------------------------------

def p4(lab, sizes, report, profile):
    walls = {}
    for count in sizes:
        name = "%s-p4x%d" % (lab, count)
        specs = []
        for index in range(1, count + 1):
            specs += ["-g", "n%d:@loop_lvm" % index]
        sh(["testhost", "-l", name, "up"] + specs)
        try:
            inventory = sh(["testhost", "-l", name, "inventory"]).strip()
            run = timed_playbook(inventory, "playbooks/site.yml",
                                 ["-e", "site_direct_lvm_hosts=none"])
        finally:
            sh(["testhost", "-l", name, "down"])
        walls[count] = run.seconds
        profile.append("P4 profile, %d guest(s): %.1f s; plays: %s; %s. Slowest tasks:" % (
            count, run.seconds,
            ", ".join("%s %.1f s" % (p["play"], p["seconds"] or 0) for p in run.plays),
            task_summary(run.tasks)))
        profile.extend(slowest(run.tasks, count=5))
    base = walls[sizes[0]]
    report("P4 site.yml converge wall time by fleet size: %s" % ", ".join(
        "%d: %.1f s (%.2f x)" % (count, walls[count], walls[count] / base) for count in sizes))
    if 8 in walls and 1 in walls:
        report("P4 8 guests / 1 guest: %.2f  (goal <= 2.0)" % (walls[8] / walls[1]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="bench")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--mib", type=int, default=512, help="MiB written per P3 measurement")
    parser.add_argument("--only", default="P1,P2,P3,P4,R1", help="figures to measure")
    parser.add_argument("--p4-sizes", default="1,2,4,8", help="fleet sizes for P4")
    args = parser.parse_args()
    lab = args.lab
    only = set(f.strip().upper() for f in args.only.split(","))
    lines = []
    profile = []

    def report(text):
        print(text, flush=True)
        lines.append(text)

    specs = []
    if "P1" in only:
        specs += ["-g", "b-loop:@loop_lvm", "-g", "b-lvm:4G@direct_lvm"]
    if "P2" in only:
        specs += ["-g", "p2:3G,3G@p2_bench"]
    if "P3" in only:
        specs += ["-g", "p3-loop:@p3_loop", "-g", "p3-lvm:2G,2G@p3_lvm"]
    try:
        if specs:
            sh(["testhost", "-l", lab, "up"] + specs)
            inventory = sh(["testhost", "-l", lab, "inventory"]).strip()
            probe = specs[1].split(":")[0]
            report("benchmarks %s on lab %s (guest kernel, cores: %s; host: %d cores)" % (
                datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), lab,
                guest(lab, probe, "uname -r; nproc").replace("\n", " ").strip(),
                os.cpu_count()))

        if "P1" in only:
            hosts = "b-loop,b-lvm"
            first = timed_playbook(inventory, "playbooks/site.yml", limit=hosts)
            noop = timed_playbook(inventory, "playbooks/site.yml", limit=hosts)
            facts = timed_playbook(inventory, "benchmarks/facts_only.yml", limit=hosts)
            if noop.changed:
                report("P1 WARNING: the re-run changed %d things; it is not a no-op" % noop.changed)
            report("P1 no-op site.yml / facts-only play: %.2f  (%.1f s / %.1f s; first run %.1f s, "
                   "%d changed; goal <= 1.3)" % (noop.seconds / facts.seconds, noop.seconds,
                                                 facts.seconds, first.seconds, first.changed))
            profile.append("P1 profile of the no-op run: %s; plays: %s. Slowest tasks:" % (
                task_summary(noop.tasks),
                ", ".join("%s %.1f s" % (p["play"], p["seconds"] or 0) for p in noop.plays)))
            profile.extend(slowest(noop.tasks))

        if "P2" in only:
            p2(lab, inventory, report, profile)

        if "P3" in only:
            timed_playbook(inventory, "benchmarks/pools_only.yml")
            size = "%dM" % (args.mib + 64)
            guest(lab, "p3-lvm", "lvcreate -q -V %s -T docker/thinpool -n bench" % size)
            guest(lab, "p3-loop", "dmsetup message docker-thinpool 0 'create_thin 1' && "
                                  "dmsetup create bench --table \"0 $((%d*2048)) thin "
                                  "/dev/mapper/docker-thinpool 1\"" % (args.mib + 64))
            raw = write_seconds(lab, "p3-lvm", "/dev/ubdc", args.mib)
            thin_lvm = write_seconds(lab, "p3-lvm", "/dev/docker/bench", args.mib)
            # the same blocks again: provisioned now, so this is the pool's steady-state cost
            thin_lvm_again = write_seconds(lab, "p3-lvm", "/dev/docker/bench", args.mib)
            thin_loop = write_seconds(lab, "p3-loop", "/dev/mapper/bench", args.mib)

            def mbs(seconds):
                return args.mib / seconds
            report("P3 write, direct-lvm thin device / raw disk: %.2f  (%.1f MiB/s / %.1f MiB/s, "
                   "%d MiB each; goal >= 0.9)" % (mbs(thin_lvm) / mbs(raw), mbs(thin_lvm),
                                                  mbs(raw), args.mib))
            report("P3 write, loop-lvm thin device / direct-lvm thin device: %.2f  (%.1f MiB/s / "
                   "%.1f MiB/s)" % (mbs(thin_loop) / mbs(thin_lvm), mbs(thin_loop), mbs(thin_lvm)))
            profile.append("P3 profile: rewriting the same blocks of the direct-lvm thin device "
                           "(already provisioned): %.1f MiB/s, %.2f of the raw disk; the rest of "
                           "the first write's gap is block provisioning"
                           % (mbs(thin_lvm_again), mbs(thin_lvm_again) / mbs(raw)))

        if "P4" in only:
            p4(lab, [int(n) for n in args.p4_sizes.split(",")], report, profile)

        if "R1" in only:
            from fleet_report import r1  # pylint: disable=import-outside-toplevel
            r1(report, profile)
    finally:
        if specs and not args.keep:
            sh(["testhost", "-l", lab, "down"])
        for text in profile:
            print(text)
        os.makedirs(os.path.join(REPO, "benchmarks", "results"), exist_ok=True)
        path = os.path.join(REPO, "benchmarks", "results",
                            datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".txt")
        with open(path, "w") as handle:
            handle.write("\n".join(lines + [""] + profile) + "\n")
        print("results: %s" % os.path.relpath(path, REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
