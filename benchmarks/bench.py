"""Benchmarks of issue 6, each a ratio of two times measured in one run on the same lab guests.

P1  no-op re-run of site.yml on converged hosts / a play that gathers the same facts (goal <= 1.3)
P2  Docker downtime in a loop-lvm -> direct-lvm conversion / the runbook's bare commands
    (goal <= 1.2): needs the migration role, not written yet; reported as not measured
P3  sequential write throughput: thin device of direct_lvm's pool / the raw backing disk
    (goal >= 0.9), and loop-lvm pool / direct-lvm pool

Usage: benchmarks/run [--keep] [--lab NAME] [--mib N]
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARS = os.path.join(REPO, "scripts", "lib", "lab-vars.yml")


def sh(argv, **kw):
    return subprocess.run(argv, cwd=REPO, check=True, universal_newlines=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw).stdout


def guest(lab, name, command):
    return sh(["testhost", "-l", lab, "exec", name, "--", command])


def timed_playbook(inventory, playbook, extra=()):
    start = time.monotonic()
    out = sh(["ansible-playbook", "-i", inventory, "-e", "@" + VARS] + list(extra) + [playbook])
    seconds = time.monotonic() - start
    changed = sum(int(n) for n in re.findall(r"changed=(\d+)", out))
    return seconds, changed, out


def write_seconds(lab, name, device, mib):
    """Seconds to write ``mib`` MiB sequentially with O_DIRECT, as dd reports them."""
    out = guest(lab, name, "dd if=/dev/zero of=%s bs=1M count=%d oflag=direct 2>&1 | tail -1"
                % (device, mib))
    match = re.search(r"copied, ([\d.]+) s", out)
    if not match:
        raise RuntimeError("dd on %s:%s said: %s" % (name, device, out))
    return float(match.group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="bench")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--mib", type=int, default=512, help="MiB written per P3 measurement")
    args = parser.parse_args()
    lab = args.lab
    lines = []

    def report(text):
        print(text, flush=True)
        lines.append(text)

    sh(["testhost", "-l", lab, "up",
        "-g", "b-loop:@loop_lvm", "-g", "b-lvm:4G@direct_lvm",
        "-g", "p3-loop:@p3_loop", "-g", "p3-lvm:2G,2G@p3_lvm"])
    try:
        inventory = sh(["testhost", "-l", lab, "inventory"]).strip()
        report("benchmarks %s on lab %s (%s)" % (
            datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), lab,
            guest(lab, "b-loop", "uname -r; nproc").replace("\n", " ").strip()))

        # P1
        first, changed, dummy = timed_playbook(inventory, "playbooks/site.yml")
        noop, noop_changed, dummy = timed_playbook(inventory, "playbooks/site.yml")
        facts = timed_playbook(inventory, "benchmarks/facts_only.yml")[0]
        if noop_changed:
            report("P1 WARNING: the re-run changed %d things; it is not a no-op" % noop_changed)
        report("P1 no-op site.yml / facts-only play: %.2f  (%.1f s / %.1f s; first run %.1f s, "
               "%d changed; goal <= 1.3)" % (noop / facts, noop, facts, first, changed))

        report("P2 Docker downtime, conversion / bare runbook: not measured (needs the "
               "loop-lvm -> direct-lvm migration role, not written yet; goal <= 1.2)")

        # P3
        timed_playbook(inventory, "benchmarks/pools_only.yml")
        size = "%dM" % (args.mib + 64)
        guest(lab, "p3-lvm", "lvcreate -q -V %s -T docker/thinpool -n bench" % size)
        guest(lab, "p3-loop", "dmsetup message docker-thinpool 0 'create_thin 1' && "
                              "dmsetup create bench --table \"0 $((%d*2048)) thin "
                              "/dev/mapper/docker-thinpool 1\"" % (args.mib + 64))
        raw = write_seconds(lab, "p3-lvm", "/dev/ubdc", args.mib)
        thin_lvm = write_seconds(lab, "p3-lvm", "/dev/docker/bench", args.mib)
        thin_loop = write_seconds(lab, "p3-loop", "/dev/mapper/bench", args.mib)

        def mbs(seconds):
            return args.mib / seconds
        report("P3 write, direct-lvm thin device / raw disk: %.2f  (%.1f MiB/s / %.1f MiB/s, "
               "%d MiB each; goal >= 0.9)" % (mbs(thin_lvm) / mbs(raw), mbs(thin_lvm), mbs(raw),
                                              args.mib))
        report("P3 write, loop-lvm thin device / direct-lvm thin device: %.2f  (%.1f MiB/s / "
               "%.1f MiB/s)" % (mbs(thin_loop) / mbs(thin_lvm), mbs(thin_loop), mbs(thin_lvm)))
    finally:
        if not args.keep:
            sh(["testhost", "-l", lab, "down"])
        os.makedirs(os.path.join(REPO, "benchmarks", "results"), exist_ok=True)
        path = os.path.join(REPO, "benchmarks", "results",
                            datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".txt")
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        print("results: %s" % os.path.relpath(path, REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
