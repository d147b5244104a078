# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stdout callback: every task's per-host results as one JSON document.

ansible-core has no JSON stdout callback of its own (it lives in ansible.posix), and the tests
need results they can parse, not lines meant for people.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: result_json
type: stdout
short_description: task results as one JSON document (tests only)
description:
  - "Prints one JSON document, C(tasks) a list of C(name) and C(hosts) (host name: result), once the run ends."
"""

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "result_json"

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.tasks = []
        self.by_uuid = {}
        self.recorded = 0

    def _entry(self, task):
        """The task's entry, by its uuid: under strategy free the hosts run different tasks at the
        same time, so a result belongs to its own task, not to the task announced last."""
        entry = self.by_uuid.get(task._uuid)
        if entry is None:
            entry = self.by_uuid[task._uuid] = {"name": task.get_name(), "hosts": {}}
            self.tasks.append(entry)
        return entry

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._entry(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._entry(task)

    def _record(self, result, **extra):
        data = dict(result._result)
        data.update(extra)
        # the order in which the host's results came: its order of tasks (task_results sorts by it)
        self.recorded += 1
        data["_order"] = self.recorded
        self._entry(result._task)["hosts"][result._host.get_name()] = data

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        self._display.display(json.dumps({"tasks": self.tasks}, sort_keys=True, default=str))
