"""converge(): the read, plan, apply, read-again skeleton of every module."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import runners


class Step(object):
    def __init__(self, log, name):
        self.log, self.name = log, name

    def apply(self):
        self.log.append("apply " + self.name)

    def to_dict(self):
        return {"cmd": self.name, "why": "test"}


class Module(object):
    def __init__(self, check_mode):
        self.check_mode = check_mode


def run(check_mode, steps, **kw):
    log = []
    reads = iter(["before", "after"])

    def read():
        value = next(reads)
        log.append("read " + value)
        return value

    def plan(current):
        log.append("plan " + current)
        return [Step(log, s) for s in steps], "decided"
    done = runners.converge(Module(check_mode), read, plan, **kw)
    return done, log


def test_a_plan_is_applied_then_the_host_read_again():
    done, log = run(False, ["a", "b"])
    assert log == ["read before", "plan before", "apply a", "apply b", "read after"]
    assert (done.before, done.after, done.decided) == ("before", "after", ("decided",))
    assert runners.outcome(done.actions, x=1) == {
        "changed": True, "x": 1, "actions": [{"cmd": "a", "why": "test"},
                                             {"cmd": "b", "why": "test"}]}


@pytest.mark.parametrize("check_mode,steps,kw,after", [
    (True, ["a"], {}, "before"),
    (True, ["a"], {"predict": lambda before: "predicted"}, "predicted"),
    (False, [], {"predict": lambda before: "predicted"}, "before"),
    (False, ["a"], {"reread": False}, "before"),
    (False, ["a"], {"reread": lambda: "read by reread"}, "read by reread"),
])
def test_check_mode_nothing_to_do_and_other_rereads(check_mode, steps, kw, after):
    done, log = run(check_mode, steps, **kw)
    assert done.after == after
    assert ("apply a" in log) == (bool(steps) and not check_mode)
    assert runners.outcome(done.actions)["changed"] == bool(steps)
