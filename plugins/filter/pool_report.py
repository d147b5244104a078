# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's rows (playbooks/report.yml): each host's dm_thinpool_info result, as the
play registers it, made into one row with its level and the reason for it, sorted so that the
hosts that need attention come first; and the rows as CSV.

Levels, in the order the rows come: ``unreadable`` (no result, the module failed, the pool is
absent or not active), ``attention`` for a pool the kernel flagged (failed, needs_check, out of
data space, read-only), ``critical`` and ``warning`` (data or metadata use at or over the
threshold), ``attention`` for an LVM pool that dmeventd does not monitor (it will not autoextend),
then ``ok``. Within a level, the most used pool first, then by host name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible.errors import AnsibleFilterError

FLAGS = (("failed", "failed"), ("needs_check", "needs_check: metadata flagged for checking"),
         ("out_of_data_space", "out of data space"), ("read_only", "read-only"))
BYTES = ("data_used_bytes", "data_total_bytes", "metadata_used_bytes", "metadata_total_bytes")
COLUMNS = ("host", "level", "reason", "pool", "backend", "data_percent", "metadata_percent") + \
    tuple(flag for flag, _text in FLAGS) + ("monitoring",) + BYTES + ("device",)
# sort rank: (level, why)
UNREADABLE = 0
FLAGGED = 1
CRITICAL = 2
WARNING = 3
UNMONITORED = 4
OK = 5
LEVELS = {UNREADABLE: "unreadable", FLAGGED: "attention", CRITICAL: "critical",
          WARNING: "warning", UNMONITORED: "attention", OK: "ok"}


def _pool_name(pool, result):
    args = (result.get("invocation") or {}).get("module_args") or {}
    pool = dict(args, **pool)
    if pool.get("vg"):
        return "%s/%s" % (pool["vg"], pool.get("name") or "")
    return pool.get("name") or ""


def _unreadable_why(result, pool):
    if result is None:
        return "no result: the host was unreachable or its read did not run"
    if "pool" not in result:
        return "dm_thinpool_info failed: %s" % (
            " ".join(str(result.get("msg") or "no message (the module ended with an error)")
                     .split()))
    if not pool.get("exists"):
        return "no pool %s" % _pool_name(pool, result)
    if not pool.get("active"):
        return "pool %s is not active" % _pool_name(pool, result)
    return None


def _over(pool, warning, critical):
    """(rank, [why]) of the data and metadata use against the thresholds."""
    rank, why = OK, []
    for part in ("data", "metadata"):
        percent = pool.get(part + "_used_percent")
        if percent is None:
            continue
        for level_rank, threshold in ((CRITICAL, critical), (WARNING, warning)):
            if percent >= threshold:
                rank = min(rank, level_rank)
                why.append("%s %g %% >= %s %g %%" % (part, percent, LEVELS[level_rank],
                                                     threshold))
                break
    return rank, why


def pool_report_row(host, result, warning, critical):
    """The row of one host: ``result`` is what report.yml registered (None: no result)."""
    pool = (result or {}).get("pool") or {}
    row = dict((column, pool.get(column)) for column in COLUMNS)
    row.update(host=host, pool=_pool_name(pool, result or {}),
               backend=pool.get("backend") or "", device=pool.get("device") or "",
               data_percent=pool.get("data_used_percent"),
               metadata_percent=pool.get("metadata_used_percent"))
    if pool.get("backend") == "lvm" and pool.get("active"):
        row["monitoring"] = "on" if pool.get("monitored") else "off"
    else:
        row["monitoring"] = "n.a."
    unreadable = _unreadable_why(result, pool)
    if unreadable:
        rank, why = UNREADABLE, [unreadable]
    else:
        rank, why = _over(pool, warning, critical)
        flags = [text for flag, text in FLAGS if pool.get(flag)]
        if flags:
            rank, why = FLAGGED, flags + why
        if row["monitoring"] == "off":
            rank = min(rank, UNMONITORED)
            why.append("dmeventd does not monitor the pool (no autoextend)")
    row.update(level=LEVELS[rank], reason="; ".join(why))
    worst = max(row["data_percent"] or 0, row["metadata_percent"] or 0)
    return (rank, -worst, host), row


def pool_report_rows(results, warning, critical):
    """The report's rows, hosts that need attention first. ``results``: host name -> the result
    report.yml registered for it (None or missing: the host gave none)."""
    if not isinstance(results, dict):
        raise AnsibleFilterError("pool_report_rows: results must map host names to results, "
                                 "not %s" % type(results).__name__)
    warning, critical = float(warning), float(critical)
    if not 0 <= warning <= critical:
        raise AnsibleFilterError("pool_report_rows: the warning threshold (%s) must be between 0 "
                                 "and the critical one (%s)" % (warning, critical))
    keyed = [pool_report_row(host, result, warning, critical)
             for host, result in results.items()]
    return [row for _key, row in sorted(keyed, key=lambda item: item[0])]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def pool_report_csv(rows):
    """The rows as CSV with a header line: every column of every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return out.getvalue()


def pool_report_summary(rows, list_hosts=20):
    """Per level that needs a look (unreadable, attention, critical, warning): at most
    ``list_hosts`` host names, in the rows' order, and how many more ('none' for no host)."""
    names = dict((level, []) for level in ("unreadable", "attention", "critical", "warning"))
    for row in rows:
        if row["level"] in names:
            names[row["level"]].append(row["host"])
    summary = {}
    for level, hosts in names.items():
        more = len(hosts) - int(list_hosts)
        summary[level] = (", ".join(hosts[:int(list_hosts)]) or "none") + \
            (" and %d more" % more if more > 0 else "")
    return summary


class FilterModule(object):
    def filters(self):
        return {"pool_report_rows": pool_report_rows, "pool_report_csv": pool_report_csv,
                "pool_report_summary": pool_report_summary}
