"""The pool_metrics role (playbooks/metrics.yml) on a real guest (issue 18): pools made by hand, as operators have them (a
raw pool over loop files, an LVM thin pool with a thin LV, an LVM pool dmeventd does not monitor),
Debian's prometheus-node-exporter serving the textfile directory. After the converge, the pool
metrics node_exporter serves are the values this test parses from raw `dmsetup status` and `lvs`;
promtool accepts them; after the raw pool is filled to 100 %, its out-of-space metric is 1 and the
example alerts' expressions fire on the served values (promtool test rules). Re-runs change
nothing; check mode changes nothing."""

import base64
import os
import re
import subprocess

import pytest
import yaml

from conftest import run_playbook, task_results

PROM = "/var/tmp/devmapper-testhost/prometheus"      # scripts/setup unpacks them here
RULES = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "pool_metrics", "files",
                     "devmapper-thin-pool.rules.yml")
OUT = "/var/lib/prometheus/node-exporter/devmapper_thin_pool.prom"
MiB = 2 ** 20
# error_if_no_space: writes past a full pool fail at once instead of queueing for a minute
MAKE = r"""set -e
modprobe dm_thin_pool
mkdir -p /var/lib/pm && cd /var/lib/pm
truncate -s 64M data; truncate -s 16M meta
D=$(losetup -f --show data); M=$(losetup -f --show meta)
dmsetup create raw-pool --table "0 $((64*2048)) thin-pool $M $D 128 256 2 skip_block_zeroing error_if_no_space"
dmsetup message raw-pool 0 "create_thin 0"
dmsetup create raw-thin --table "0 $((128*2048)) thin /dev/mapper/raw-pool 0"
dd if=/dev/urandom of=/dev/mapper/raw-thin bs=1M count=16 oflag=direct status=none
pvcreate -q /dev/ubdb; vgcreate -q vgm /dev/ubdb
lvcreate -q --type thin-pool -L 256M -n pool vgm
lvcreate -q -V 128M --thin vgm/pool -n thin1
dd if=/dev/urandom of=/dev/vgm/thin1 bs=1M count=24 oflag=direct status=none
lvcreate -q --type thin-pool -L 128M -n quiet vgm
lvchange -q --monitor n vgm/quiet
"""
SCRAPE = ("python3 -c 'import urllib.request; print(urllib.request.urlopen("
          "\"http://127.0.0.1:9100/metrics\", timeout=30).read().decode())'")


def converge(lab, g, check=False, **role_vars):
    """playbooks/metrics.yml on the guest; (rc, failed messages, tasks that changed)."""
    rc, report = run_playbook(lab.inventory_path, "playbooks/metrics.yml", check=check,
                              extra_vars=dict(role_vars, metrics_hosts=g.name))
    rows = task_results(report, g.name)
    return rc, [r.get("msg") for dummy, r in rows if r.get("failed")], \
        [name for name, r in rows if r.get("changed")]


def served(g):
    """{(metric, pool): value} of the devmapper_thin_pool_* lines node_exporter serves, and those
    lines."""
    lines = [line for line in g.out(SCRAPE).splitlines()
             if line.startswith("devmapper_thin_pool_") or
             re.match(r"# (HELP|TYPE) devmapper_thin_pool_", line)]
    values = {}
    for line in lines:
        match = re.match(r'^devmapper_thin_pool_(\w+)(?:\{(.*)\})? (\S+)$', line)
        if match:
            pool = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")).get("pool")
            values[(match.group(1), pool)] = float(match.group(3))
    return values, lines


def raw_status(g, dm_name):
    """(data used, data total, metadata used, metadata total) in bytes and the mode, from the
    pool's own `dmsetup table` and `dmsetup status` lines, read here."""
    table, status = [g.out("dmsetup %s %s" % (what, dm_name)).split()
                     for what in ("table", "status")]
    block = int(table[5]) * 512
    meta = [int(n) * 4096 for n in status[4].split("/")]
    data = [int(n) * block for n in status[5].split("/")]
    return data + meta + [status[7]]


def promtool(*args, **kwargs):
    return subprocess.run([os.path.join(PROM, "promtool")] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                          **kwargs)


@pytest.mark.disks("1G")
def test_node_exporter_serves_every_pools_metrics_and_a_full_pool_fires_the_alert(
        lab, fresh_guest, tmp_path):
    g = fresh_guest
    g.sh(MAKE)
    with open(os.path.join(PROM, "prometheus-node-exporter.deb"), "rb") as handle:
        deb = base64.b64encode(handle.read()).decode("ascii")
    g.lab.run(g.record, "base64 -d > /root/node-exporter.deb && dpkg -i /root/node-exporter.deb",
              check=True, timeout=300, input_text=deb)

    rc, failed, changed = converge(lab, g, pool_metrics_interval="30s")
    assert rc == 0 and not failed and changed, failed
    rc, failed, changed = converge(lab, g, pool_metrics_interval="30s")
    assert rc == 0 and not failed and changed == [], changed
    assert g.out("systemctl is-enabled devmapper-pool-metrics.timer").strip() == "enabled"
    assert "devmapper-pool-metrics.timer" in g.out("systemctl list-timers --all --no-legend")
    # check mode with another interval: reported, nothing written
    timer = g.out("sha256sum /etc/systemd/system/devmapper-pool-metrics.timer")
    rc, failed, changed = converge(lab, g, check=True, pool_metrics_interval="5min")
    assert rc == 0 and changed, (failed, changed)
    assert g.out("sha256sum /etc/systemd/system/devmapper-pool-metrics.timer") == timer

    values, lines = served(g)
    for pool, dm_name in (("raw-pool", "raw-pool"), ("vgm/pool", "vgm-pool-tpool"),
                          ("vgm/quiet", "vgm-quiet")):
        data_used, data_total, meta_used, meta_total, mode = raw_status(g, dm_name)
        assert values[("data_used_bytes", pool)] == data_used, pool
        assert values[("data_size_bytes", pool)] == data_total, pool
        assert values[("metadata_used_bytes", pool)] == meta_used, pool
        assert values[("metadata_size_bytes", pool)] == meta_total, pool
        assert values[("out_of_data_space", pool)] == 0 and mode == "rw", pool
    assert values[("data_used_bytes", "raw-pool")] == 16 * MiB
    assert values[("thin_devices", "raw-pool")] == 1 and values[("thin_devices", "vgm/pool")] == 1
    monitors = dict(line.strip().split("|") for line in g.out(
        "lvs --noheadings --separator '|' -o lv_name,seg_monitor --select segtype=thin-pool vgm"
    ).splitlines())
    assert monitors == {"pool": "monitored", "quiet": "not monitored"}, monitors
    assert values[("lvm_monitored", "vgm/pool")] == 1
    assert values[("lvm_monitored", "vgm/quiet")] == 0
    assert ("lvm_monitored", "raw-pool") not in values
    check = promtool("check", "metrics", input="\n".join(lines) + "\n")
    assert check.returncode == 0 and check.stdout == "", check.stdout

    # the raw pool filled to 100 %: writes past it fail, the metric and the alerts say so
    g.sh("dd if=/dev/urandom of=/dev/mapper/raw-thin bs=1M count=100 oflag=direct status=none",
         check=False)
    assert raw_status(g, "raw-pool")[4] == "out_of_data_space"
    g.sh("systemctl start devmapper-pool-metrics.service")
    values, lines = served(g)
    assert values[("out_of_data_space", "raw-pool")] == 1
    assert values[("data_used_bytes", "raw-pool")] == values[("data_size_bytes", "raw-pool")]
    assert values[("out_of_data_space", "vgm/pool")] == 0
    firing = alerts_on(tmp_path, lines)
    assert firing.returncode == 0, firing.stdout


def plain(value):
    return "%d" % value if value.is_integer() else repr(value)


def alerts_on(tmp_path, lines):
    """promtool test rules of the example rules on the served values (held for 10 minutes, host
    label instance="guest"): ThinPoolFlagged and ThinPoolDataFilling fire for raw-pool and only
    for it, ThinPoolNotMonitored for vgm/quiet."""
    series = []
    for line in lines:
        match = re.match(r'^(devmapper_thin_pool_\w+)(?:\{(.*)\})? (\S+)$', line)
        if match and "collector" not in match.group(1):
            labels = (match.group(2) + "," if match.group(2) else "") + 'instance="guest"'
            series.append({"series": "%s{%s}" % (match.group(1), labels),
                           # node_exporter writes 6.7108864e+07: the series notation takes
                           # plain numbers ("+" is its own operator)
                           "values": "%sx20" % plain(float(match.group(3)))})
    alert = {"instance": "guest", "pool": "raw-pool", "severity": "critical"}
    labels = {"instance": "guest", "pool": "raw-pool", "backend": "dm", "dm_name": "raw-pool"}
    tests = {"rule_files": [os.path.abspath(RULES)], "evaluation_interval": "1m",
             "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": [
                 {"eval_time": "16m", "alertname": "ThinPoolFlagged",
                  "exp_alerts": [{"exp_labels": alert, "exp_annotations": {
                      "summary": "Thin pool raw-pool on guest is out of data space, read-only, "
                                 "failed or needs a check",
                      "description": "The devmapper_thin_pool_* flag metrics say which. Writes "
                                     "are failing or will at the next boot."}}]},
                 {"eval_time": "16m", "alertname": "ThinPoolDataFilling",
                  "exp_alerts": [{"exp_labels": dict(labels, severity="warning"),
                                  "exp_annotations": {
                      "summary": "Thin pool raw-pool on guest: data 100% used",
                      "description": "Grow it (playbooks/resize.yml) before it fills; a full "
                                     "pool stops every container's writes."}}]},
                 {"eval_time": "16m", "alertname": "ThinPoolNotMonitored",
                  "exp_alerts": [{"exp_labels": {
                      "instance": "guest", "pool": "vgm/quiet", "backend": "lvm",
                      "dm_name": "vgm-quiet", "severity": "warning"}, "exp_annotations": {
                          "summary": "LVM thin pool vgm/quiet on guest is not monitored by "
                                     "dmeventd",
                          "description": "Autoextend does not work without monitoring "
                                         "(lvchange --monitor y VG/POOL)."}}]}]}]}
    path = tmp_path / "alerts.test.yml"
    path.write_text(yaml.safe_dump(tests))
    return promtool("test", "rules", str(path))
