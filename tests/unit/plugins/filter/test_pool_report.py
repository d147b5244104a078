"""The fleet report's rows and CSV (plugins/filter/pool_report.py) on what report.yml registered
on a real guest for each pool state (tests/unit/fixtures/pool_reports.json)."""

import copy
import csv
import io

import pytest
from ansible.errors import AnsibleFilterError

import captured
from ansible_collections.devmapper.storage.plugins.filter import pool_report as f

STATES = captured.load("pool_reports")["states"]


def result(state):
    return copy.deepcopy(STATES[state]["result"])


def rows_of(**results):
    return dict((row["host"], row) for row in f.pool_report_rows(results, 70, 90))


def test_each_captured_state_gets_its_level_and_reason():
    rows = rows_of(**dict((state, result(state)) for state in STATES), silent=None)
    assert rows["silent"]["level"] == "unreadable"
    assert rows["silent"]["reason"].startswith("no result")
    assert rows["dm_needs_check"]["level"] == "attention"
    assert "needs_check" in rows["dm_needs_check"]["reason"]
    assert rows["dm_out_of_data_space"]["level"] == "attention"
    assert "out of data space" in rows["dm_out_of_data_space"]["reason"]
    assert rows["dm_read_only"]["reason"].startswith("read-only")
    assert rows["dm_absent"]["level"] == "unreadable"
    assert rows["dm_absent"]["reason"] == "no pool docker-thinpool"
    assert rows["lvm_inactive"]["reason"] == "pool docker/thinpool is not active"
    assert "not a thin-pool table line" in rows["dm_not_a_pool"]["reason"]
    assert rows["lvm_unmonitored"]["monitoring"] == "off"
    assert rows["lvm_unmonitored"]["level"] == "attention"
    assert rows["lvm_monitored_profile"]["monitoring"] == "on"
    assert rows["dm_new"]["monitoring"] == "n.a." and rows["dm_new"]["level"] == "ok"
    for state in ("dm_warning", "dm_critical"):
        pool = STATES[state]["result"]["pool"]
        worst = max(pool["data_used_percent"], pool["metadata_used_percent"])
        expected = "critical" if worst >= 90 else "warning" if worst >= 70 else "ok"
        assert rows[state]["level"] == expected, (state, worst)


def test_rows_come_in_the_order_of_attention_then_use_then_name():
    used = result("dm_used")
    more = result("dm_used")
    more["pool"]["data_used_percent"] = used["pool"]["data_used_percent"] + 1
    rows = f.pool_report_rows({"b": used, "a": copy.deepcopy(used), "c": more,
                               "d": result("dm_needs_check"), "e": None}, 70, 90)
    assert [r["host"] for r in rows] == ["e", "d", "c", "a", "b"]


def test_a_threshold_counts_when_reached_and_the_reason_says_which_part():
    full = result("dm_used")
    full["pool"]["metadata_used_percent"] = 90.0
    row = f.pool_report_rows({"h": full}, 70, 90)[0]
    assert row["level"] == "critical"
    assert row["reason"] == "metadata 90 % >= critical 90 %"


def test_bad_thresholds_and_results_are_refused():
    with pytest.raises(AnsibleFilterError, match="warning threshold"):
        f.pool_report_rows({}, 95, 90)
    with pytest.raises(AnsibleFilterError, match="must map host names"):
        f.pool_report_rows([], 70, 90)


def test_the_csv_has_every_column_of_every_row():
    rows = f.pool_report_rows(dict((state, result(state)) for state in STATES), 70, 90)
    parsed = list(csv.DictReader(io.StringIO(f.pool_report_csv(rows))))
    assert [r["host"] for r in parsed] == [r["host"] for r in rows]
    assert tuple(parsed[0]) == f.COLUMNS
    flagged = [r for r in parsed if r["host"] == "dm_needs_check"][0]
    assert flagged["needs_check"] == "true" and flagged["out_of_data_space"] == "false"
    absent = [r for r in parsed if r["host"] == "dm_absent"][0]
    assert absent["data_percent"] == "" and absent["needs_check"] == ""


def test_the_summary_names_a_few_hosts_per_level_and_counts_the_rest():
    rows = f.pool_report_rows(dict(("h%d" % i, result("dm_needs_check")) for i in range(5)), 70, 90)
    summary = f.pool_report_summary(rows, 3)
    assert summary == {"attention": "h0, h1, h2 and 2 more", "unreadable": "none",
                       "critical": "none", "warning": "none"}
