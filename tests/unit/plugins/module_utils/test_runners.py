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


# taken before tests/conftest.py swaps it for the stand-in module's captured answers
REAL_RUN_ARGV = runners.run_argv


class Logging(object):
    def __init__(self):
        self.lines = []

    def debug(self, line):
        self.lines.append(line)


def test_a_command_runs_without_a_shell_in_the_c_locale_with_its_exit_code_and_output():
    module = Logging()
    script = 'printf "%s|" "$LC_ALL" "$LANG" "$1"; cat; printf "\\303\\251rr" >&2; exit 3'
    rc, out, err = REAL_RUN_ARGV(module, ["/bin/sh", "-c", script, "sh", "a b;*"], data=b"in")
    assert (rc, out, err) == (3, "C|C|a b;*|in", u"\xe9rr")
    assert module.lines == ["running /bin/sh -c %s sh a b;*" % script]


def test_a_command_without_input_reads_an_empty_stdin_and_bad_bytes_survive():
    rc, out, err = REAL_RUN_ARGV(Logging(), ["/bin/sh", "-c", 'cat; printf "\\377"'])
    assert (rc, out, err) == (0, "\udcff", "")
