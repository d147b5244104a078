"""Every role's documented interface (meta/argument_specs.yml) says what its defaults/main.yml
holds: the same variables, the same defaults, values of the declared type; handlers are reached
through `listen:` topics, never by task name."""

import os

import pytest
import yaml

import bad_inputs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES_DIR = os.path.join(REPO, "roles")
ROLES = sorted(d for d in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, d)))

TYPES = {"str": str, "path": str, "bool": bool, "int": int, "list": list, "dict": dict}


def load(role, *parts):
    path = os.path.join(ROLES_DIR, role, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return yaml.safe_load(handle)


def test_there_are_roles():
    assert {"preflight", "pool_activation", "docker_daemon", "loop_lvm", "direct_lvm"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_match_defaults(role):
    defaults = load(role, "defaults", "main.yml") or {}
    specs = load(role, "meta", "argument_specs.yml")
    assert specs, "%s has no meta/argument_specs.yml" % role
    # every entry point's options; a required one has no default
    options = {}
    for entry in specs["argument_specs"].values():
        options.update(entry.get("options") or {})
    options = dict((name, spec) for name, spec in options.items() if not spec.get("required"))
    assert set(options) == set(defaults), (
        "only in defaults: %s; only in argument_specs: %s"
        % (sorted(set(defaults) - set(options)), sorted(set(options) - set(defaults))))
    for name, spec in options.items():
        # internal roles' variables are __ROLE_* (fast_path: the collection's own wiring)
        assert name.startswith((role + "_", "__" + role + "_")), (
            "%s: %s lacks the role prefix" % (role, name))
        assert spec.get("description"), "%s: %s is undocumented" % (role, name)
        assert spec.get("default") == defaults[name], (
            "%s: %s defaults to %r but argument_specs says %r"
            % (role, name, defaults[name], spec.get("default")))
        value = defaults[name]
        if isinstance(value, str) and "{{" in value:
            continue        # computed at run time
        assert isinstance(value, TYPES[spec["type"]]), (
            "%s: %s is %r, not of type %s" % (role, name, value, spec["type"]))
        if spec["type"] == "list" and "elements" in spec:
            assert all(isinstance(v, TYPES[spec["elements"]]) for v in value)
        if "choices" in spec:
            assert value in spec["choices"]


@pytest.mark.parametrize("role", ROLES)
def test_other_entry_points_have_task_files(role):
    specs = load(role, "meta", "argument_specs.yml")
    for entry in specs["argument_specs"]:
        assert os.path.exists(os.path.join(ROLES_DIR, role, "tasks", entry + ".yml")), entry


@pytest.mark.parametrize("role", ROLES)
def test_handlers_listen_on_topics(role):
    for handler in load(role, "handlers", "main.yml") or []:
        assert handler.get("listen", "").startswith("devmapper "), handler["name"]


def test_every_notify_reaches_a_listener():
    topics = set()
    for role in ROLES:
        topics.update(h["listen"] for h in load(role, "handlers", "main.yml") or [])
    notified = set()
    for role in ROLES:
        tasks_dir = os.path.join(ROLES_DIR, role, "tasks")
        for name in os.listdir(tasks_dir):
            for task in load(role, "tasks", name) or []:
                for block in [task] + task.get("block", []) + task.get("rescue", []):
                    note = block.get("notify")
                    notified.update([note] if isinstance(note, str) else note or [])
    assert notified and notified <= topics, sorted(notified - topics)


def _tasks(block_list):
    """Every task of a task file, blocks, rescues and always included."""
    for task in block_list or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


@pytest.mark.parametrize("role", ROLES)
def test_what_a_role_sets_for_itself_is_named_as_internal(role):
    """vars/main.yml, registered results and facts a role sets are __ROLE_* (ansible-lint's and
    Ansible's convention for what is not the role's interface); facts of the internal fast_path
    role are __fast_path_*. A name without the prefix would read as a variable to set."""
    names = list((load(role, "vars", "main.yml") or {}).keys())
    defaults = load(role, "defaults", "main.yml") or {}
    tasks_dir = os.path.join(ROLES_DIR, role, "tasks")
    for name in sorted(os.listdir(tasks_dir)) if os.path.isdir(tasks_dir) else []:
        for task in _tasks(load(role, "tasks", name)):
            if task.get("register"):
                names.append(task["register"])
            facts = task.get("ansible.builtin.set_fact") or task.get("set_fact") or {}
            names.extend(key for key in facts if key != "cacheable")
            # a task's vars in the role's name that are not its interface (include_role's vars
            # for another role are that role's interface)
            names.extend(key for key in task.get("vars") or {}
                         if key.startswith(role + "_") and key not in defaults)
    wrong = [name for name in names if not name.startswith("__" + role + "_")]
    assert names and not wrong, "%s: %s" % (role, wrong)


def module_calls():
    """(file, task name, module, args) of every call of a collection module in roles/ and
    playbooks/ (tasks inside blocks too)."""
    def tasks(items):
        for task in items or []:
            if isinstance(task, dict):
                yield task
                for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks",
                            "handlers"):
                    yield from tasks(task.get(key))
    found = []
    files = [os.path.join(d, n) for d in
             [os.path.join(ROLES_DIR, r, sub) for r in ROLES for sub in ("tasks", "handlers")]
             + [os.path.join(REPO, "playbooks")] if os.path.isdir(d)
             for n in sorted(os.listdir(d)) if n.endswith(".yml")]
    for path in files:
        with open(path) as handle:
            for task in tasks(yaml.safe_load(handle)):
                for key, args in task.items():
                    if key.startswith("devmapper.storage.") and isinstance(args, dict):
                        found.append((os.path.relpath(path, REPO), task.get("name"),
                                      key.split(".")[-1], args))
    return found


def test_every_module_call_passes_only_options_the_module_has():
    """A role passing an option its module lacks fails only when the task runs (the repair entry
    point's dm_snapshot call with option_names did, until dm_snapshot took it)."""
    found = module_calls()
    assert len(found) >= 30 and any(f[2] == "dm_snapshot" for f in found)
    unknown = [(where, name, sorted(set(args) - set(bad_inputs.argument_spec(module))))
               for where, name, module, args in found
               if set(args) - set(bad_inputs.argument_spec(module))]
    assert not unknown, unknown
