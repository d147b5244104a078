"""The tests' stdout callback (tests/callback_plugins/result_json.py) under a real
ansible-playbook on the controller itself (connection local, no guest): a handler's result is
filed under the handler, not under the task that notified it, and under strategy free each
host's results are filed under their own tasks, numbered in the order they came."""

import json
import subprocess

from ansible_runs import REPO, ansible_env, task_results

PLAY = """
- hosts: all
  gather_facts: false
  strategy: ansible.builtin.free
  tasks:
    - name: Slow on one host
      ansible.builtin.command: sleep {{ pause }}
      changed_when: true
      notify: Fails
    - name: Second task
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }}"
  handlers:
    - name: Fails
      ansible.builtin.fail:
        msg: handler of {{ inventory_hostname }}
"""


def test_handlers_and_free_strategy_results_are_filed_under_their_own_tasks(tmp_path):
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "hosts").write_text(
        "slow ansible_connection=local pause=2 ansible_python_interpreter=python3\n"
        "quick ansible_connection=local pause=0 ansible_python_interpreter=python3\n")
    proc = subprocess.run(["ansible-playbook", "-i", str(tmp_path / "hosts"),
                           str(tmp_path / "play.yml")], cwd=REPO, env=ansible_env(),
                          stdout=subprocess.PIPE, universal_newlines=True, timeout=120,
                          check=False)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode != 0
    for host in ("slow", "quick"):
        rows = task_results(report, host)
        assert [name for name, dummy in rows] == ["Slow on one host", "Fails", "Second task"] \
            or [name for name, dummy in rows] == ["Slow on one host", "Second task", "Fails"]
        by_name = dict(rows)
        assert by_name["Fails"]["failed"] and by_name["Fails"]["msg"] == "handler of " + host
        assert by_name["Slow on one host"]["changed"] and not by_name["Slow on one host"].get(
            "failed")
        assert by_name["Second task"]["msg"] == host
