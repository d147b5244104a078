# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark-only callback: how long each task took on each host, written as JSON to the file
named by TASK_TIMER_FILE when the run ends. This is how benchmarks/ says where time goes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: per-task, per-host wall times to a JSON file (benchmarks only)
description:
  - "Writes a JSON object to the file named by E(TASK_TIMER_FILE): C(tasks), one row per task and
    host (task, host, action, status, start, seconds), and C(plays) (play, start, seconds); C(start)
    is seconds since the epoch."
requirements:
  - TASK_TIMER_FILE set in the environment
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.path = os.environ.get("TASK_TIMER_FILE")
        self.started = {}
        self.rows = []
        self.plays = []

    def _end_play(self):
        if self.plays and self.plays[-1]["seconds"] is None:
            self.plays[-1]["seconds"] = round(time.time() - self.plays[-1]["start"], 3)

    def v2_playbook_on_play_start(self, play):
        self._end_play()
        self.plays.append({"play": play.get_name(), "start": time.time(), "seconds": None})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.task_started = time.time()

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), task._uuid)] = time.time()

    def _record(self, result, status):
        key = (result._host.get_name(), result._task._uuid)
        start = self.started.pop(key, getattr(self, "task_started", time.time()))
        self.rows.append({"task": result._task.get_name(), "host": key[0], "status": status,
                          "action": result._task.action, "start": round(start, 3),
                          "seconds": round(time.time() - start, 3)})

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._end_play()
        if self.path:
            with open(self.path, "w") as handle:
                json.dump({"tasks": self.rows, "plays": self.plays}, handle, indent=0)
