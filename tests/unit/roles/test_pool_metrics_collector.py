"""The pool_metrics role's collector (roles/pool_metrics/files/devmapper-pool-metrics) on what it
read on a real guest (tests/unit/fixtures/pool_metrics.json, scripts/lib/capture_pool_metrics.py:
a raw pool with 40 MiB written, a raw pool out of data space, a monitored LVM pool with a thin LV
and an unmonitored one), and its example alerting rules, checked by Prometheus' own promtool."""

import importlib.machinery
import importlib.util
import os
import re
import subprocess

import pytest

import captured

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "pool_metrics")
# unpacked from Debian's prometheus package by scripts/setup (no server runs here)
PROMTOOL = "/var/tmp/devmapper-testhost/prometheus/promtool"
CAPTURE = captured.load("pool_metrics")
MiB = 2 ** 20


def load_collector():
    path = os.path.join(ROLE, "files", "devmapper-pool-metrics")
    loader = importlib.machinery.SourceFileLoader("devmapper_pool_metrics", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def samples(text):
    """{(metric, pool): value} of an exposition text (this test's own reading of it)."""
    found = {}
    for line in text.splitlines():
        match = re.match(r'^(devmapper_thin_pool_\w+)(?:\{(.*)\})? (\S+)$', line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
            found[(match.group(1)[len("devmapper_thin_pool_"):], labels.get("pool"))] = \
                float(match.group(3))
    return found


@pytest.fixture
def collector(monkeypatch):
    module = load_collector()
    outputs = dict((r["command"], r["stdout"]) for r in CAPTURE["commands"])
    monkeypatch.setattr(module, "run", lambda argv: outputs[" ".join(argv)])
    # thin ids come from the metadata device, which a capture cannot hold: the guest's own count
    counts = dict((pool, value) for (metric, pool), value in samples(CAPTURE["collector"]).items()
                  if metric == "thin_devices")
    names = {"raw-pool": "raw-pool", "full-pool": "full-pool", "vgm-pool-tpool": "vgm/pool",
             "vgm-quiet": "vgm/quiet"}
    tables = module.target_lines(outputs["dmsetup table --target thin-pool"])
    by_device = dict((line.split()[3], counts[names[name]]) for name, line in tables.items())
    monkeypatch.setattr(module, "thin_device_count", lambda device: int(by_device[device]))
    return module


def test_the_collector_writes_what_it_wrote_on_the_guest(collector):
    text = collector.exposition(collector.collect(), 0.0, None)
    strip = re.compile(r"^devmapper_thin_pool_collector_timestamp_seconds .*$", re.M)
    assert strip.sub("", text) == strip.sub("", CAPTURE["collector"])


def test_values_are_those_the_guest_was_given(collector):
    got = samples(collector.exposition(collector.collect(), 0.0, None))
    assert got[("data_size_bytes", "raw-pool")] == 256 * MiB
    assert got[("data_used_bytes", "raw-pool")] == 40 * MiB        # dd of 40 MiB, 64 KiB blocks
    assert got[("metadata_size_bytes", "raw-pool")] == 16 * MiB
    assert got[("low_water_mark_bytes", "raw-pool")] == 32768 * 64 * 1024
    assert got[("thin_devices", "raw-pool")] == 2
    assert got[("out_of_data_space", "raw-pool")] == 0
    assert got[("out_of_data_space", "full-pool")] == 1
    assert got[("data_used_bytes", "full-pool")] == got[("data_size_bytes", "full-pool")] == 64 * MiB
    assert got[("lvm_monitored", "vgm/pool")] == 1 and got[("lvm_monitored", "vgm/quiet")] == 0
    assert ("lvm_monitored", "raw-pool") not in got
    assert got[("data_size_bytes", "vgm/pool")] == 256 * MiB
    assert got[("collector_success", None)] == 1


def test_promtool_accepts_the_metrics():
    proc = subprocess.run([PROMTOOL, "check", "metrics"], input=CAPTURE["collector"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout


def test_promtool_accepts_the_rules_and_their_tests_pass():
    rules = os.path.join(ROLE, "files", "devmapper-thin-pool.rules.yml")
    check = subprocess.run([PROMTOOL, "check", "rules", rules], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert check.returncode == 0 and "SUCCESS: 5 rules found" in check.stdout, check.stdout
    tests = os.path.join(REPO, "tests", "promtool")
    test = subprocess.run([PROMTOOL, "test", "rules", "devmapper-thin-pool.rules.test.yml"],
                          cwd=tests, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert test.returncode == 0, test.stdout


def test_a_failed_read_is_written_as_such_and_the_file_is_replaced_whole(tmp_path, monkeypatch):
    module = load_collector()

    def broken(argv):
        raise RuntimeError("%s: /dev/mapper/control: open failed" % " ".join(argv))
    monkeypatch.setattr(module, "run", broken)
    out = tmp_path / "devmapper_thin_pool.prom"
    out.write_text("old\n")
    assert module.main(["devmapper-pool-metrics", str(out)]) == 1
    got = samples(out.read_text())
    assert got == {("collector_success", None): 0,
                   ("collector_timestamp_seconds", None): got[("collector_timestamp_seconds", None)]}
    assert os.listdir(str(tmp_path)) == ["devmapper_thin_pool.prom"]      # no temporary left
    assert oct(os.stat(str(out)).st_mode & 0o777) == "0o644"
