"""report.yml's report at fleet scale, with no guest: 10,000 hosts' results, each one of the results
report.yml registered on a real guest (tests/unit/fixtures/pool_reports.json, captured by
scripts/lib/capture_pool_reports.py) with its data and metadata use varied, go through report.yml
itself (its first play reads no host; the results come in as report_results). The CSV has every
host with its flags and monitoring, in the order of attention; headless Chromium runs the page's
script: the counts per level, the histograms, the table of the hosts that need attention first and
its search are what the results make. The screenshot's render time is printed (benchmarks/run --only R1
measures it against the issue's 5 s) and the screenshot kept as .test-reports/fleet-report.png."""

import copy
import csv
import html
import json
import os
import random
import re
import struct
import subprocess
import time

import captured
from ansible_runs import REPO, ansible_env

FLEET = 10000
WARNING, CRITICAL = 70, 90
PAGE = 200                      # table rows the page shows at first (the template's PAGE)
SCREENSHOT = os.path.join(REPO, ".test-reports", "fleet-report.png")
WINDOW = (1400, 2200)
STATES = captured.load("pool_reports")["states"]
# the captured states whose use the fleet varies, and what each of the others is by itself
VARIED = ["dm_used", "dm_warning", "dm_critical", "lvm_monitored_profile", "lvm_unmonitored"]
AS_CAPTURED = {"dm_new": "ok", "dm_out_of_data_space": "attention", "dm_needs_check": "attention",
               "dm_read_only": "attention", "dm_failed_with_thin": "unreadable",
               "dm_failed": "unreadable", "dm_absent": "unreadable",
               "dm_not_a_pool": "unreadable", "lvm_inactive": "unreadable",
               "lvm_absent": "unreadable", None: "unreadable"}     # None: no result at all
# the order of attention: (level, why) ranks
RANK = {"unreadable": 0, "flagged": 1, "critical": 2, "warning": 3, "unmonitored": 4, "ok": 5}
# fractions of use well inside each band, so that block rounding keeps a value in its band
BANDS = {"ok": (0.0, 0.69), "warning": (0.705, 0.89), "critical": (0.905, 1.0)}


def varied(result, rng, band):
    """``result`` with its data and metadata use set in ``band``: one of the two (at random) in
    it, the other below the warning threshold; blocks, bytes and percents kept consistent."""
    result = copy.deepcopy(result)
    pool = result["pool"]
    over = rng.choice(["data", "metadata"])
    for part in ("data", "metadata"):
        low, high = BANDS[band if part == over else "ok"]
        total = pool[part + "_total_blocks"]
        used = rng.randint(int(total * low) + 1, int(total * high)) if high < 1 else \
            rng.randint(int(total * low) + 1, total)
        pool[part + "_used_bytes"] = used * (pool[part + "_total_bytes"] // total)
        pool[part + "_used_blocks"] = used
        pool[part + "_used_percent"] = round(100.0 * used / total, 2)
        if "lvm_%s_percent" % part in pool:
            pool["lvm_%s_percent" % part] = pool[part + "_used_percent"]
    return result


def make_fleet(seed=18):
    """{host: result} and {host: (state, level, rank)} of the fleet, from the captured states."""
    rng = random.Random(seed)
    results, made = {}, {}
    plain = list(AS_CAPTURED)
    for i in range(FLEET):
        host = "host-%05d" % i
        if rng.random() < 0.06:
            state = rng.choice(plain)
            level = AS_CAPTURED[state]
            rank = "flagged" if level == "attention" else level
            results[host] = copy.deepcopy(STATES[state]["result"]) if state else None
        else:
            state = rng.choice(VARIED)
            band = rng.choices(["ok", "warning", "critical"], [85, 10, 5])[0]
            results[host] = varied(STATES[state]["result"], rng, band)
            rank = band if band != "ok" or state != "lvm_unmonitored" else "unmonitored"
            level = "attention" if rank == "unmonitored" else band
        made[host] = (state, level, rank)
    return results, made


def run_report(tmp_path, results):
    """report.yml with ``results`` as what its first play registered; returns its seconds."""
    (tmp_path / "inventory.yml").write_text("all:\n  children:\n    fleet:\n      hosts: {}\n")
    (tmp_path / "results.json").write_text(json.dumps({"report_results": results}))
    start = time.time()
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "inventory.yml"),
                           os.path.join(REPO, "playbooks", "report.yml"),
                           "-e", "@" + str(tmp_path / "results.json"),
                           "-e", json.dumps({"report_hosts": "fleet", "report_dir": str(tmp_path),
                                             "report_warning": WARNING,
                                             "report_critical": CRITICAL})],
                          cwd=REPO, env=ansible_env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return time.time() - start


def chromium(*args):
    """Headless Chromium as test_report.py runs it; (stdout, seconds)."""
    start = time.time()
    proc = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu"] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=True)
    return proc.stdout, time.time() - start


def png_size(path):
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    return struct.unpack(">II", head[16:24])


def shown_rows(dom):
    return re.findall(r'<tr class="host-row" data-level="(\w+)" data-host="([^"]+)">(.*?)</tr>',
                      dom, re.S)


def test_fleet_of_10000_hosts_csv_page_and_search(tmp_path):
    results, made = make_fleet()
    playbook_seconds = run_report(tmp_path, results)

    # the CSV: every host, with its level, flags and monitoring, in the order of attention
    with open(str(tmp_path / "pools.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == FLEET and set(r["host"] for r in rows) == set(made)
    for column in ("needs_check", "out_of_data_space", "read_only", "failed", "monitoring",
                   "reason", "pool", "backend"):
        assert column in rows[0], column
    for row in rows:
        state, level, _rank = made[row["host"]]
        assert row["level"] == level, (row, state)
        pool = (results[row["host"]] or {}).get("pool") or {}
        assert row["data_percent"] == ("" if pool.get("data_used_percent") is None
                                       else str(pool["data_used_percent"])), row
        if level == "unreadable":
            assert row["reason"] and row["needs_check"] == "", row
        else:
            for flag in ("needs_check", "out_of_data_space", "read_only", "failed"):
                assert row[flag] == str(pool[flag]).lower(), (row, flag)
        assert row["monitoring"] == {"lvm_monitored_profile": "on",
                                     "lvm_unmonitored": "off"}.get(state, "n.a."), row
    assert [r["host"] for r in rows if r["needs_check"] == "true"] == \
        [h for h, m in sorted(made.items()) if m[0] == "dm_needs_check"]
    assert any("not a thin-pool table line" in r["reason"] for r in rows)   # a module's message
    ranks = [RANK[made[r["host"]][2]] for r in rows]
    assert ranks == sorted(ranks)
    worst = [max(float(r["data_percent"] or 0), float(r["metadata_percent"] or 0)) for r in rows]
    assert all(worst[i] >= worst[i + 1] for i in range(FLEET - 1) if ranks[i] == ranks[i + 1])

    # the page: render and screenshot timed, as a person would open it
    page = "file://" + str(tmp_path / "pools.html")
    if os.path.exists(SCREENSHOT):
        os.remove(SCREENSHOT)
    os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
    _out, seconds = chromium("--screenshot=" + SCREENSHOT, "--window-size=%d,%d" % WINDOW, page)
    assert png_size(SCREENSHOT) == WINDOW
    dom, dom_seconds = chromium("--dump-dom", page)
    # the time is printed, not asserted (a machine under load says nothing by it): the figure
    # against the issue's 5 s is benchmarks/run --only R1's
    summary = ("fleet report, %d hosts: report.yml %.1f s; pools.html %.1f MB, render + screenshot "
               "in headless chromium %.2f s (dump-dom %.2f s); screenshot %s" % (
                   FLEET, playbook_seconds, os.path.getsize(str(tmp_path / "pools.html")) / 1e6,
                   seconds, dom_seconds, SCREENSHOT))
    print(summary)
    with open(os.path.join(os.path.dirname(SCREENSHOT), "fleet-report.txt"), "w") as handle:
        handle.write(summary + "\n")

    # counts per level, as made
    for level in ("unreadable", "attention", "critical", "warning", "ok"):
        count = sum(1 for m in made.values() if m[1] == level)
        assert re.search(r'<button [^>]*class="count %s" data-level="%s" data-count="%d"'
                         % (level, level, count), dom), level
    # the histograms: each bucket holds the hosts whose percent falls in it
    for part in ("data", "metadata"):
        values = [float(r[part + "_percent"]) for r in rows if r[part + "_percent"] != ""]
        svg = re.search(r'<svg [^>]*id="histogram-%s"[^>]*data-no-reading="(\d+)"(.*?)</svg>'
                        % part, dom, re.S)
        assert int(svg.group(1)) == FLEET - len(values)
        buckets = [int(n) for n in re.findall(r'class="bucket"[^>]*data-count="(\d+)"', svg.group(2))]
        assert buckets == [sum(1 for v in values if min(9, int(v // 10)) == b) for b in range(10)]
    assert 'id="pool-chart"' not in dom and '<g class="host' not in dom    # no 10,000 bars
    # the table: the first PAGE rows of the CSV's order, the hosts that need attention first
    table = shown_rows(dom)
    assert [(level, host) for level, host, _cells in table] == \
        [(r["level"], r["host"]) for r in rows[:PAGE]]
    assert table[0][0] == "unreadable"
    assert 'data-shown="%d" data-matching="%d"' % (PAGE, FLEET) in dom
    first = table[0][2]
    assert html.escape(rows[0]["reason"], quote=False) in first

    # the search: every word must match; the address may carry it
    dom, _seconds = chromium("--dump-dom", page + "#q=level:warning%20monitoring:off")
    expected = sorted(h for h, (state, level, _r) in made.items()
                      if level == "warning" and state == "lvm_unmonitored")
    table = shown_rows(dom)
    assert expected and sorted(host for _level, host, _cells in table) == expected
    assert 'data-matching="%d"' % len(expected) in dom
    assert all(">off</td>" in cells and level == "warning" for level, _host, cells in table)

    # a flag by its name: the pools flagged needs_check, whatever their use
    dom, _seconds = chromium("--dump-dom", page + "#q=needs_check")
    expected = sorted(h for h, (state, _level, _r) in made.items() if state == "dm_needs_check")
    assert expected and sorted(host for _level, host, _cells in shown_rows(dom)) == expected
