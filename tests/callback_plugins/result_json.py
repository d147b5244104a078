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

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.tasks.append({"name": task.get_name(), "hosts": {}})

    def _record(self, result, **extra):
        if not self.tasks:
            self.tasks.append({"name": result._task.get_name(), "hosts": {}})
        data = dict(result._result)
        data.update(extra)
        self.tasks[-1]["hosts"][result._host.get_name()] = data

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
