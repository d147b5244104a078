"""Unit tests answer commands from output captured on real hosts: the runners' one way of running a
command (runners.run_argv) asks the test's stand-in module (tests/unit/fake_host.py) instead."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import runners


@pytest.fixture(autouse=True)
def commands_answered_by_the_stand_in_module(monkeypatch):
    def answered(module, argv, data=None):
        return module.run_command(argv, data=data)
    monkeypatch.setattr(runners, "run_argv", answered)
