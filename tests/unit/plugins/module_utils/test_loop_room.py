"""loop_pool's room check (loop_files.room_shortfall, plan_pool_files) and the directories it
makes: sparse files that may outgrow their filesystem are warned of by default and refused when
asked, counting what the files already hold and the reserve; messages name the caller's option
names (runners.named)."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import loop_files as lf
from ansible_collections.devmapper.storage.plugins.module_utils import thinpool as tp
from ansible_collections.devmapper.storage.plugins.module_utils.host.loop import LoopDevices
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, named)

GiB = 1 << 30
MiB = 1 << 20


class FakeModule(object):
    def __init__(self, option_names=None):
        self.params = {"option_names": option_names or {}}

    def get_bin_path(self, name, required=False):
        return "/sbin/" + name


IO = type("LoopIO", (), {})()
for _tool in ("truncate", "rm", "mkdir"):
    setattr(IO, _tool, tp.ToolRunner(FakeModule(), _tool))
IO.loop = LoopDevices(FakeModule())


def params(**kw):
    base = {"data_file": "/var/lib/docker-loop/data", "metadata_file": "/var/lib/docker-loop/metadata",
            "data_size": "100G", "metadata_size": "2G", "state": "present", "force": False,
            "remove_files": False, "free_space_action": "warn", "free_space_reserve": "0"}
    base.update(kw)
    return base


def new_files(parent_exists=True):
    return dict((role, lf.LoopFileState("/var/lib/docker-loop/" + role,
                                        parent_exists=parent_exists)) for role in lf.ROLES)


def room(free, mount="/"):
    return dict((role, {"mount": mount, "free": free}) for role in lf.ROLES)


def argvs(actions):
    return [a.runner.argv(a.args)[0:1] + a.args for a in actions]


def test_files_that_fit_pass_without_a_word():
    assert lf.room_shortfall(params(), new_files(), room(200 * GiB)) is None


def test_files_larger_than_the_free_space_are_warned_of_and_the_plan_goes_on():
    warned = []
    actions = lf.plan_pool_files(IO, params(), new_files(), room(10 * GiB), warned.append)
    assert len(warned) == 1 and warned[0].startswith(
        "free_space_action: the loop files (data_size 100G, metadata_size 2G) may grow to 102.0G "
        "on the filesystem of /, which has 10.0G free and 0B already in them; once it is full, "
        "the pool's writes fail.")
    assert warned[0].endswith("(free_space_action=refuse refuses such a pool)")
    assert [a[1] for a in argvs(actions)] == ["--size", "--find", "--size", "--find"]


def test_refused_when_asked_before_any_action():
    with pytest.raises(ModuleError) as refused:
        lf.plan_pool_files(IO, params(free_space_action="refuse"), new_files(), room(10 * GiB))
    assert refused.value.msg.endswith("; nothing was changed")
    assert refused.value.details == {"changed": False}


def test_what_the_files_already_hold_counts_as_theirs():
    held = dict((role, lf.LoopFileState("/var/lib/docker-loop/" + role, True, size, size))
                for role, size in (("data", 100 * GiB), ("metadata", 2 * GiB)))
    # 102G wanted: 2G free plus the 102G they hold (fully allocated) is room enough
    assert lf.room_shortfall(params(), held, room(2 * GiB)) is None
    # growing them by 10G is not
    assert "may grow to 112.0G" in lf.room_shortfall(params(data_size="110G"), held, room(2 * GiB))


def test_the_reserve_is_kept_free():
    assert lf.room_shortfall(params(), new_files(), room(103 * GiB)) is None
    problem = lf.room_shortfall(params(free_space_reserve="2G"), new_files(), room(103 * GiB))
    assert "and 2G is to stay free (free_space_reserve)" in problem


def test_files_on_two_filesystems_are_judged_each_on_its_own():
    rooms = {"data": {"mount": "/srv", "free": 200 * GiB},
             "metadata": {"mount": "/", "free": 1 * GiB}}
    problem = lf.room_shortfall(params(), new_files(), rooms)
    assert "(metadata_size 2G) may grow to 2.0G on the filesystem of /," in problem


def test_not_looked_at_when_removing():
    assert lf.room_shortfall(params(state="absent", data_size=None, metadata_size=None),
                             new_files(), room(0)) is None


def test_missing_directories_are_made_once_before_the_files():
    actions = lf.plan_pool_files(IO, params(), new_files(parent_exists=False), room(200 * GiB))
    assert argvs(actions)[0] == ["/sbin/mkdir", "-p", "-m", "0700", "/var/lib/docker-loop"]
    assert [a[0] for a in argvs(actions)].count("/sbin/mkdir") == 1


def test_messages_name_the_callers_options():
    module = FakeModule({"free_space_action": "loop_lvm_free_space_action",
                         "data_size": "loop_lvm_data_size"})
    text = ("free_space_action: the loop files (data_size 100G, metadata_size 2G) ...; "
            "set free_space_action=ignore")
    assert named(module, text) == (
        "loop_lvm_free_space_action: the loop files (loop_lvm_data_size 100G, metadata_size 2G)"
        " ...; set loop_lvm_free_space_action=ignore")
    assert named(FakeModule(), text) == text
    assert named(module, "my_data_size: x") == "my_data_size: x"
