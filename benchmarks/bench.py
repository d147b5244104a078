"""Benchmarks of issue 6, each a ratio of two times measured in one run on the same lab guests.

P1  no-op re-run of site.yml on converged hosts / a play that gathers the same facts (goal <= 1.3)
P2  Docker downtime in a loop-lvm -> direct-lvm migration (playbooks/migrate.yml) / the runbook's
    bare command sequence run in the same guest (goal <= 1.0); also the time until the images are
    back, for both (goal <= 1.0); median of 3 runs on guests booted from one saved after the
    converge and the workload (benchmarks/p2.py, benchmarks/p2_workload.yml)
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
    """The tasks that took the most time (summed over hosts), as report lines; with ``window``,
    those that ran in it (a part of it at least: one module call may hold a whole window)."""
    totals = collections.OrderedDict()
    for row in tasks:
        if window and not in_window(row, window):
            continue
        key = (row["task"], row["action"])
        total, runs = totals.get(key, (0.0, 0))
        totals[key] = (total + row["seconds"], runs + 1)
    ranked = sorted(totals.items(), key=lambda item: -item[1][0])[:count]
    return ["    %6.1f s  %3d x  %s (%s)" % (total, runs, name, action)
            for (name, action), (total, runs) in ranked]


def in_window(row, window):
    return row["start"] <= window[1] and row["start"] + row["seconds"] >= window[0]


def task_summary(tasks, window=None):
    rows = [r for r in tasks if not window or in_window(r, window)]
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
    if "--lab" in sys.argv[1:-1]:
        # `testhost down` ends every process whose arguments hold "--lab NAME" (it finds its ssh
        # forwarders so): this one too, before it could print the profile. As --lab=NAME it is not.
        at = sys.argv.index("--lab")
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:at]
                 + ["--lab=" + sys.argv[at + 1]] + sys.argv[at + 2:])
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
            from p2 import p2  # pylint: disable=import-outside-toplevel
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
