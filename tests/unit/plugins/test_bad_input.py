"""Bad input is refused before anything is read: every path, size and name option of every module
and every such variable of every role, each with every bad value of its kind (tests/bad_inputs.py
makes the rows from the modules' argument specs and the roles' argument_specs).

A module row runs the module's run function through ``exit_module`` with a stand-in module that
fails the test on any command or tool look-up: the refusal must come first, name the option, and
say changed=false. A role row gives the role's own table of kinds (vars/main.yml) and values to
the bad_input filter its first task uses; the message must start with the role variable."""

import importlib
import os

import pytest
import yaml

import bad_inputs as b
from ansible_collections.devmapper.storage.plugins.filter import inputs as role_filter
from ansible_collections.devmapper.storage.plugins.module_utils import inputs
from ansible_collections.devmapper.storage.plugins.module_utils.runners import exit_module

MODULE_ROWS = b.module_rows()
ROLE_ROWS = b.role_rows()


class HostReached(Exception):
    """The module got past its checks to the host (a command or a tool look-up)."""


class Exited(Exception):
    def __init__(self, kind, result):
        super(Exited, self).__init__(kind)
        self.kind = kind
        self.result = result


class StandIn(object):
    """AnsibleModule as far as the modules use it, with no host behind it."""
    _diff = False

    def __init__(self, module, args, check_mode=False):
        self.check_mode = check_mode
        spec = b.argument_spec(module)
        self.params = dict((name, option.get("default")) for name, option in spec.items())
        self.params.update(args)
        self.warnings = []

    def run_command(self, argv, **kwargs):
        raise HostReached(" ".join(argv))

    def get_bin_path(self, name, required=False, opt_dirs=None):
        raise HostReached("look-up of " + name)

    def warn(self, text):
        self.warnings.append(text)

    def fail_json(self, **kwargs):
        raise Exited("fail_json", kwargs)

    def exit_json(self, **kwargs):
        raise Exited("exit_json", kwargs)


def run(module, args, check_mode=False):
    """What the module's single way out reports: ("fail_json"|"exit_json", result), or
    ("host", what) when it got to the host first."""
    plugin = importlib.import_module(b.MODULE_PACKAGE + module)
    try:
        exit_module(StandIn(module, args, check_mode), plugin.run_module)
    except Exited as done:
        return done.kind, done.result
    except HostReached as reached:
        return "host", str(reached)
    raise AssertionError("exit_module returned without exit_json or fail_json")


def test_every_path_size_and_name_option_is_classified():
    assert b.unclassified() == []


def test_every_kind_has_bad_values():
    assert b.kinds_without_bad_values() == []
    assert set(b.CLASS) == set(inputs.KINDS)
    assert set(b.CLASS.values()) == {"path", "size", "name"}


def test_the_sweep_tries_every_row(capsys):
    classes = set(b.CLASS[row.kind] for row in MODULE_ROWS + ROLE_ROWS)
    assert classes == {"path", "size", "name"}
    assert len(MODULE_ROWS) + len(ROLE_ROWS) >= 80
    with capsys.disabled():
        print("\nbad-input sweep: %d inputs (%d module options, %d role variables)"
              % (len(MODULE_ROWS) + len(ROLE_ROWS), len(MODULE_ROWS), len(ROLE_ROWS)))


@pytest.mark.parametrize("row", MODULE_ROWS, ids=b.row_id)
def test_a_module_refuses_bad_input_before_reading_the_host(row):
    kind, result = run(row.module, row.args)
    assert kind == "fail_json", (kind, result)
    assert result["msg"].startswith(b.named(row.module, row.option) + ":"), result["msg"]
    assert result["changed"] is False


@pytest.mark.parametrize("module,args", [(m, a) for m in b.module_names()
                                         for a in b.good_variants(m)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_the_good_arguments_get_past_the_checks(module, args):
    # in check mode: a module that reads the host without commands (managed_files) plans and
    # writes nothing here
    kind, result = run(module, args, check_mode=True)
    if kind == "fail_json":
        classified = [o for o, k in b.MODULE_KINDS[module].items() if k != "other"]
        assert not any(result["msg"].startswith(b.named(module, o) + ":")
                       for o in classified), result


@pytest.mark.parametrize("row", ROLE_ROWS, ids=b.row_id)
def test_a_role_refuses_bad_input_naming_its_variable(row):
    values = dict(b.role_defaults(row.role), **row.vars)
    table = b.role_inputs(row.role)
    found = role_filter.bad_input(table, [values[name] for name in table])
    assert found and found[0].startswith(row.variable + ":"), found


@pytest.mark.parametrize("role", b.role_names())
def test_a_role_checks_what_the_table_classifies(role):
    wanted = dict((v, k) for v, k in b.ROLE_KINDS[role].items() if k != "other")
    table = b.role_inputs(role)
    have = dict((v, k if isinstance(k, str) else k["kind"]) for v, k in table.items())
    assert have == wanted
    assert role_filter.bad_input(table, b.role_defaults(role)) == []


def task_file(role, name):
    with open(os.path.join(b.ROLES_DIR, role, "tasks", name + ".yml")) as handle:
        return yaml.safe_load(handle) or []


# Entry points that use none of the checked variables.
UNCHECKED_ENTRIES = {}


@pytest.mark.parametrize("role", [r for r in b.role_names() if b.role_inputs(r)])
def test_a_role_checks_first(role):
    check = task_file(role, "inputs")
    assert len(check) == 1 and "ansible.builtin.assert" in check[0]
    assert "%s_inputs | devmapper.storage.bad_input(" % role in str(check[0]["vars"])
    entries = list(b._yaml(role, "meta", "argument_specs.yml")["argument_specs"])
    for entry in [e for e in entries if (role, e) not in UNCHECKED_ENTRIES]:
        first = task_file(role, entry)[0]
        if first.get("ansible.builtin.import_tasks") == "fast_path.yml":
            first = task_file(role, "fast_path")[0]
        assert first.get("ansible.builtin.import_tasks") == "inputs.yml", (entry, first)


@pytest.mark.parametrize("name,value", [
    ("docker", None), ("docker-thinpool", None), ("vg00-lvol1", None), ("a+b_c.d-e", None),
    ("x" * 127, None), ("x" * 128, "at most 127"), ("-x", "begin with '-'"), ("a b", "whitespace"),
    ("control", "the kernel refuses"), ("é" * 64, "at most 127 bytes"),
])
def test_dm_name_rules(name, value):
    problem = inputs.problem_of("n", "dm_name", name)
    assert (problem is None) if value is None else (value in problem), problem


@pytest.mark.parametrize("name,value", [
    ("thinpool", None), ("docker-pool", None), ("lvol0", None), ("a+b_c.d", None),
    ("snapshots", "begin with 'snapshot'"), ("my_tmeta_lv", "_tmeta"), ("x_rimage", "_rimage"),
    ("über", "a-z A-Z 0-9"), ("a:b", "a-z A-Z 0-9"),
])
def test_lv_name_rules(name, value):
    problem = inputs.problem_of("lv", "lv_name", name)
    assert (problem is None) if value is None else (value in problem), problem


def test_vg_names_may_hold_what_lv_names_may_not():
    assert inputs.problem_of("vg", "vg_name", "snapshot_tmeta") is None


@pytest.mark.parametrize("kind,value,block,message", [
    ("loop_data_size", "64K", None, None), ("loop_data_size", "100G", None, None),
    ("loop_data_size", "64K", "1M", "less than 1M (one pool block)"),
    ("loop_metadata_size", "2M", None, None), ("loop_metadata_size", "2047K", None, "less than 2M"),
    ("lvm_data_size", "95%VG", None, None), ("lvm_data_size", "100%FREE", "512K", None),
    ("lvm_data_size", "256K", "512K", "less than 512K"), ("lvm_metadata_size", "1%VG", None, None),
    ("device_size", "10G", None, None), ("device_size", 4096, None, None),
    ("block_size", "64K", None, None), ("block_size", "1G", None, None),
    ("block_sectors", 128, None, None), ("block_sectors", "256", None, None),
])
def test_size_rules(kind, value, block, message):
    problem = inputs.problem_of("s", kind, value, block)
    assert (problem is None) if message is None else (message in problem), problem


def test_a_dangling_link_is_refused_by_name(tmp_path):
    from ansible_collections.devmapper.storage.plugins.module_utils import loop_files
    from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
    link = tmp_path / "data"
    link.symlink_to(tmp_path / "gone")
    io = loop_files.LoopFileIO.__new__(loop_files.LoopFileIO)
    wanted = "data_file: %s is a symbolic link to %s" % (link, tmp_path)
    with pytest.raises(ModuleError, match=wanted):
        io.read(str(link), {}, "data_file")
