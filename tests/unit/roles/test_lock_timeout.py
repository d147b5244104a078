"""One variable, devmapper_storage_lock_timeout, sets how long a role's run waits for the host's
lock (the lock is the host's, shared by every role): every task of every role that calls a module
of the action group changes_host (meta/runtime.yml) passes it as lock_timeout, and names it in
option_names, so that a run that gave up says which variable to raise (before issue 14's B2 it
said the module option lock_timeout, which a role's user cannot set)."""

import os

import pytest
import yaml

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, exit_module)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
VARIABLE = "devmapper_storage_lock_timeout"


def changes_host():
    with open(os.path.join(REPO, "meta", "runtime.yml")) as handle:
        return ["devmapper.storage." + m
                for m in yaml.safe_load(handle)["action_groups"]["changes_host"]]


def tasks(items):
    for task in items or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks(task.get(key))


def calls():
    """(role file, task name, module args) of every call of a changes_host module in roles/."""
    modules = changes_host()
    found = []
    for role in sorted(os.listdir(os.path.join(REPO, "roles"))):
        tasks_dir = os.path.join(REPO, "roles", role, "tasks")
        for name in sorted(os.listdir(tasks_dir)):
            with open(os.path.join(tasks_dir, name)) as handle:
                for task in tasks(yaml.safe_load(handle)):
                    for module in modules:
                        if module in task:
                            found.append(("%s/%s" % (role, name), task["name"], task[module]))
    return found


def test_every_role_call_of_a_module_that_takes_the_lock_passes_the_variable():
    found = calls()
    assert len(found) >= 10
    wrong = [(where, name) for where, name, args in found
             if args.get("lock_timeout") != "{{ %s | default(omit) }}" % VARIABLE
             or (args.get("option_names") or {}).get("lock_timeout") != VARIABLE]
    assert not wrong, wrong


class Failed(Exception):
    pass


class Module(object):
    """What exit_module needs of AnsibleModule (fail_json ends the module, as the real one)."""

    def __init__(self, option_names):
        self.params = {"option_names": option_names}
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise Failed()

    def exit_json(self, **kwargs):
        raise AssertionError("should have failed")


def test_the_wait_message_names_the_variable_a_role_passes():
    def timed_out(module):
        # converge's message when the lock stays held (runners.converge)
        raise ModuleError("lock_timeout: another run has held this host's lock (/run/devmapper-"
                          "storage/host.lock) for more than 3 s: pid 42. Nothing was changed; run "
                          "again once it is done, or give a longer lock_timeout")
    module = Module({"lock_timeout": VARIABLE})
    with pytest.raises(Failed):
        exit_module(module, timed_out)
    assert module.failed["msg"].startswith(VARIABLE + ": another run")
    assert module.failed["msg"].endswith("give a longer " + VARIABLE)
    alone = Module({})
    with pytest.raises(Failed):
        exit_module(alone, timed_out)
    assert alone.failed["msg"].startswith("lock_timeout: ")
