"""report.yml on a lab fleet whose pools are filled to known levels: the CSV has every host with
its real usage, hosts over a threshold come first, the HTML page's chart (drawn by its own script)
shows every host when headless Chromium renders it, and report_fail_on_critical fails the play."""

import csv
import re
import subprocess
import uuid

import pytest

from conftest import GuestHandle, run_playbook

MiB = 1 << 20

# a raw pool of 256 MiB over loop files with one thin device; fill it with $1 MiB
LOOP_POOL = (
    "set -e; mkdir -p /var/lib/docker-loop; cd /var/lib/docker-loop; "
    "truncate -s 256M data; truncate -s 16M metadata; "
    "d=$(losetup -f --show data); m=$(losetup -f --show metadata); "
    "dmsetup create docker-thinpool --table \"0 $((256*2048)) thin-pool $m $d 128 32768 1 "
    "skip_block_zeroing\"; dmsetup message docker-thinpool 0 'create_thin 0'; "
    "dmsetup create fill --table \"0 $((512*2048)) thin /dev/mapper/docker-thinpool 0\"; "
    "dd if=/dev/urandom of=/dev/mapper/fill bs=1M count=%d oflag=direct status=none")
LVM_POOL = ("set -e; vgcreate -q docker /dev/ubdb; lvcreate -q -L 256M -T docker/thinpool; "
            "lvcreate -q -V 512M -T docker/thinpool -n fill; "
            "dd if=/dev/urandom of=/dev/docker/fill bs=1M count=%d oflag=direct status=none")


@pytest.fixture
def filled_fleet(lab):
    suffix = uuid.uuid4().hex[:4]
    plan = [("rc" + suffix, "loop_lvm", [], LOOP_POOL % 240),      # ~94 %: critical
            ("rw" + suffix, "loop_lvm", [], LOOP_POOL % 200),      # ~78 %: warning
            ("rk" + suffix, "direct_lvm", ["1G"], LVM_POOL % 40)]  # ~16 %: ok
    try:
        lab.up([{"name": n, "disks": disks, "groups": [group]} for n, group, disks, _fill in plan])
        for name, _group, _disks, fill in plan:
            GuestHandle(lab, name).sh(fill)
        yield [name for name, _g, _d, _f in plan]
    finally:
        for name, _g, _d, _f in plan:
            if name in lab.guests:
                lab.remove_guest(lab.guests[name])


def render(path):
    """The page's DOM after its script ran, as headless Chromium renders it."""
    proc = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                           "--dump-dom", "file://" + path], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                          check=True)
    return proc.stdout


def test_report_csv_html_chart_and_fail_on_critical(lab, filled_fleet, tmp_path):
    critical, warning, ok = filled_fleet
    hosts = ":".join(filled_fleet)
    rc, report = run_playbook(lab.inventory_path, "playbooks/report.yml",
                              extra_vars={"report_hosts": hosts, "report_dir": str(tmp_path)})
    assert rc == 0, report
    with open(str(tmp_path / "pools.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["host"] for r in rows] == [critical, warning, ok]
    assert [r["level"] for r in rows] == ["critical", "warning", "ok"]
    for row, filled_mib in zip(rows, (240, 200, 40)):
        used, total = int(row["data_used_bytes"]), int(row["data_total_bytes"])
        assert total == 256 * MiB
        assert filled_mib * MiB <= used <= (filled_mib + 2) * MiB, row
        assert abs(float(row["data_percent"]) - 100.0 * used / total) < 0.1
        assert 0 < float(row["metadata_percent"]) < 50

    dom = render(str(tmp_path / "pools.html"))
    groups = re.findall(r'<g class="host (\w+)" data-host="([^"]+)">(.*?)</g>', dom, re.S)
    assert [(level, host) for level, host, _body in groups] == [
        ("critical", critical), ("warning", warning), ("ok", ok)]
    for (_level, host, body), row in zip(groups, rows):
        percents = dict(re.findall(r'class="bar (data|metadata)"[^>]*data-percent="([\d.]+)"', body))
        assert abs(float(percents["data"]) - float(row["data_percent"])) < 0.01, host
        assert abs(float(percents["metadata"]) - float(row["metadata_percent"])) < 0.01, host
        assert ">%s</text>" % host in body
    assert re.search(r'class="threshold critical"[^>]*data-percent="90', dom)
    assert re.search(r'class="threshold warning"[^>]*data-percent="70', dom)

    rc, report = run_playbook(lab.inventory_path, "playbooks/report.yml",
                              extra_vars={"report_hosts": hosts, "report_dir": str(tmp_path),
                                          "report_fail_on_critical": True})
    msgs = [r.get("msg", "") for t in report["tasks"] for r in t["hosts"].values()
            if r.get("failed")]
    assert rc != 0 and any(critical in m and warning not in m for m in msgs), msgs
