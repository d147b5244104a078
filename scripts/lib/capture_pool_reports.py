"""Capture what playbooks/report.yml registers for a host (dm_thinpool_info's result, after the
play's failed_when) in the pool states a fleet holds: raw and LVM pools at several levels of use,
full, flagged needs_check, read-only, failed, monitored or not by dmeventd, inactive, absent, and
a device that is not a pool. The fleet report's unit test varies these into 10,000 hosts
(tests/integration/test_report_fleet.py).

Usage: capture_pool_reports.py LAB GUEST   (the guest needs one spare disk, /dev/ubdb)
  e.g. testhost -l cap18 up -g c:2G%bookworm; capture_pool_reports.py cap18 c; testhost -l cap18 down
Writes tests/unit/fixtures/pool_reports.json: {"states": {name: {"setup": shell, "result": the
registered result}}, "versions": {...}}."""

import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [os.path.join(ROOT, "tests"), os.path.join(ROOT, "tools", "testhost")]

from testhost import lab as lab_mod  # noqa: E402
from ansible_runs import run_playbook  # noqa: E402
from thin_superblock import SET_NEEDS_CHECK  # noqa: E402

LAB = lab_mod.Lab(sys.argv[1])
GUEST = LAB.guest(sys.argv[2])
FIXTURE = os.path.join(ROOT, "tests", "unit", "fixtures", "pool_reports.json")
LVM = {"direct_lvm_devices": ["/dev/ubdb"]}

RESET = ("for d in fill docker-thinpool meta-lin; do dmsetup remove -f $d; done 2>/dev/null; "
         "vgchange -q -an docker; vgremove -q -ff -y docker; pvremove -q -ff -y /dev/ubdb; "
         "losetup -D; rm -rf /var/lib/docker-loop /etc/lvm/profile/docker-thinpool.profile; "
         "wipefs -q -a /dev/ubdb; true")
# a raw pool of 256 MiB over loop files, as loop_lvm makes one; $META is its metadata device (a
# linear device over the loop file, so that a state can swap it for an error target)
RAW = ("set -e; modprobe dm_thin_pool; mkdir -p /var/lib/docker-loop; cd /var/lib/docker-loop; "
       "truncate -s 256M data; truncate -s 16M metadata; "
       "D=$(losetup -f --show data); M=$(losetup -f --show metadata); "
       "dmsetup create meta-lin --table \"0 $((16*2048)) linear $M 0\"; META=/dev/mapper/meta-lin; "
       "table() { echo \"0 $((256*2048)) thin-pool $META $D 128 32768 $1\"; }; "
       "dmsetup create docker-thinpool --table \"$(table '1 skip_block_zeroing')\"; ")
THIN = ("dmsetup message docker-thinpool 0 'create_thin 0'; "
        "dmsetup create fill --table \"0 $((512*2048)) thin /dev/mapper/docker-thinpool 0\"; ")
FILL = "dd if=/dev/urandom of=/dev/mapper/fill bs=1M count=%d oflag=direct status=none; "
REMADE = ("dmsetup remove fill; dmsetup remove docker-thinpool; %s"
          "dmsetup create docker-thinpool --table \"$(table '%s')\"; ")
FLAG = "python3 -c '%s' $META; " % SET_NEEDS_CHECK.replace("'", "'\\''")
POOL = "set -e; vgcreate -q docker /dev/ubdb; lvcreate -q -L 256M -T docker/thinpool; "
LV_FILL = ("lvcreate -q -V 512M -T docker/thinpool -n fill; "
           "dd if=/dev/urandom of=/dev/docker/fill bs=1M count=%d oflag=direct status=none; ")
PROFILE = ("mkdir -p /etc/lvm/profile && printf 'activation {\\n  thin_pool_autoextend_threshold"
           "=80\\n  thin_pool_autoextend_percent=20\\n}\\n' > /etc/lvm/profile/docker-thinpool"
           ".profile; lvchange -q --metadataprofile docker-thinpool docker/thinpool; ")
# the metadata device starts failing: the pool's next commit fails and the kernel switches it
# to fail mode (it cannot even record needs_check)
BREAK = ("dmsetup load meta-lin --table \"0 $((16*2048)) error\"; dmsetup suspend meta-lin; "
         "dmsetup resume meta-lin; dd if=/dev/urandom of=/dev/mapper/fill bs=1M count=8 seek=100 "
         "oflag=direct status=none || true; dmsetup status docker-thinpool >/dev/null; ")

STATES = [
    ("dm_new", RAW, {}),
    ("dm_used", RAW + THIN + FILL % 40, {}),
    ("dm_warning", RAW + THIN + FILL % 200, {}),
    ("dm_critical", RAW + THIN + FILL % 240, {}),
    ("dm_out_of_data_space", RAW.replace("1 skip_block_zeroing", "2 skip_block_zeroing "
                                         "error_if_no_space") + THIN + (FILL % 300)
     .replace("; ", " || true; "), {}),
    ("dm_needs_check", RAW + THIN + FILL % 40 + REMADE % (FLAG, "1 skip_block_zeroing"), {}),
    ("dm_read_only", RAW + THIN + FILL % 40 + REMADE % ("", "2 skip_block_zeroing read_only"),
     {}),
    ("dm_failed_with_thin", RAW + THIN + FILL % 40 + BREAK, {}),
    ("dm_failed", RAW + THIN + FILL % 40 + BREAK + "dmsetup remove fill; ", {}),
    ("dm_absent", "true", {}),
    ("dm_not_a_pool", "dmsetup create docker-thinpool --table '0 2048 zero'", {}),
    ("lvm_monitored_profile", POOL + PROFILE + "lvchange -q --monitor y docker/thinpool; "
     + LV_FILL % 80, LVM),
    # after the thin volume: activating one turns monitoring back on
    ("lvm_unmonitored", POOL + LV_FILL % 150 + "lvchange -q --monitor n docker/thinpool; ", LVM),
    ("lvm_inactive", POOL + LV_FILL % 40 + "vgchange -q -an docker; ", LVM),
    ("lvm_absent", "true", LVM),
]


def sh(command):
    proc = LAB.run(GUEST, command, timeout=600, check=False)
    if proc.returncode != 0:
        raise SystemExit("%s failed (%d): %s %s" % (command, proc.returncode, proc.stdout,
                                                    proc.stderr))
    return proc.stdout


def registered(extra_vars):
    """The result report.yml's first play registers for the guest."""
    with tempfile.TemporaryDirectory() as report_dir:
        rc, report = run_playbook(LAB.inventory_path, "playbooks/report.yml", extra_vars=dict(
            extra_vars, report_hosts=GUEST.name, report_dir=report_dir))
    if rc != 0:     # a host's failed read is in its result, not in the play's rc
        raise SystemExit("report.yml failed: %s" % report)
    result = [t["hosts"][GUEST.name] for t in report["tasks"]
              if t["name"] == "Read the pool's usage"][0]
    result.pop("_order", None)
    return result


def main():
    states = {}
    for name, setup, extra_vars in STATES:
        sh(RESET)
        sh(setup)
        states[name] = {"setup": setup, "vars": extra_vars, "result": registered(extra_vars)}
        pool = states[name]["result"].get("pool", {})
        print("%-22s %s" % (name, states[name]["result"].get("msg") or dict(
            (k, pool.get(k)) for k in ("exists", "active", "mode", "data_used_percent",
                                       "needs_check", "monitored"))))
    sh(RESET)
    versions = dict((tool, sh(command).strip()) for tool, command in (
        ("kernel", "uname -r"), ("lvm", "lvm version | head -1"),
        ("dmsetup", "dmsetup version | tr '\\n' ' '")))
    with open(FIXTURE, "w") as handle:
        json.dump({"states": states, "versions": versions}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote", os.path.normpath(FIXTURE))


if __name__ == "__main__":
    main()
