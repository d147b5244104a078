"""Bad input on a real guest: each module refuses a bad path, size or name before it reads or
changes anything, and each role refuses a bad variable in its first task, naming it; the host is
the same after every row as before the first.

The rows are tests/bad_inputs.py's (made from the modules' argument specs and the roles'
argument_specs): one per module option (each costs a module run on the guest, about 2 s) and two
per role variable (refused on the controller); the unit sweep (tests/unit/plugins/test_bad_input.py)
tries every bad value without a host. All rows run in one generated playbook, so that Ansible starts
once: each row is a block whose rescue records the refusal. The host is snapshot before the first
row and after the last: refusals cannot undo one another's changes, so one equal pair shows that
none changed anything (a snapshot after each row doubled the test's time). Module rows run for
real (their other arguments name nothing that exists, so a missed check could only read); role
rows run the whole role in check mode."""

import os

import yaml

import bad_inputs as b
from conftest import run_playbook, task_results

# What a refusal must leave as it was: block devices, device-mapper tables and status, LVM, loop
# devices, the collection's and Docker's settings, and where a relative path would have landed.
SNAPSHOT = ("set +e; lsblk -J 2>&1; dmsetup table 2>&1; dmsetup status 2>&1; pvs 2>&1; "
            "vgs 2>&1; lvs -a 2>&1; losetup -J 2>&1; "
            "find /etc/docker /etc/devmapper-storage -type f -exec sha256sum {} + 2>/dev/null "
            "| sort; ls -A / /root /var/lib /var/tmp 2>&1; true")


def snapshot_tasks(name):
    return [{"name": name, "ansible.builtin.shell": SNAPSHOT, "changed_when": False,
             "check_mode": False}]


def row_action(index, row):
    name = "row %d runs" % index
    if isinstance(row, b.ModuleRow):
        return {"name": name, "devmapper.storage." + row.module: row.args}
    return {"name": name, "ansible.builtin.import_role": {"name": "devmapper.storage." + row.role},
            "vars": row.vars, "check_mode": True}


def row_tasks(index, row):
    return [{"name": "row %d" % index,
             "block": [row_action(index, row),
                       {"name": "row %d accepted" % index,
                        "ansible.builtin.debug": {"msg": "accepted"}}],
             "rescue": [{"name": "row %d refused" % index,
                         "ansible.builtin.debug": {"var": "ansible_failed_result"}}]}]


def write_playbook(path, host, rows):
    tasks = snapshot_tasks("snapshot before")
    for index, row in enumerate(rows):
        tasks += row_tasks(index, row)
    tasks += snapshot_tasks("snapshot after")
    play = {"name": "Bad input", "hosts": host, "gather_facts": False, "tasks": tasks}
    with open(path, "w") as handle:
        yaml.safe_dump([play], handle, default_flow_style=False, sort_keys=False, width=1000)


def what_is_wrong(row, results):
    """The row's problems: not refused, refused without naming the option, or changed."""
    name = b.named(row.module, row.option) if isinstance(row, b.ModuleRow) else row.variable
    label = "%s %s=%r" % (row.module if isinstance(row, b.ModuleRow) else row.role, name,
                          row.value)
    index = results["index"]
    if ("row %d accepted" % index) in results["ran"]:
        return ["%s: accepted" % label]
    refused = results["ran"].get("row %d refused" % index, {}).get("ansible_failed_result")
    if not refused:
        return ["%s: no refusal recorded" % label]
    problems = []
    msg = refused.get("msg", "")
    # a role variable the argument spec's type check refuses is named inside its message
    named = msg.startswith(name + ":") or (isinstance(row, b.RoleRow) and name in msg)
    if not named:
        problems.append("%s: the message does not name %s: %s" % (label, name, msg[:300]))
    if refused.get("changed"):
        problems.append("%s: changed=%r" % (label, refused.get("changed")))
    return problems


def test_bad_input_is_refused_and_changes_nothing(lab, fresh_disks, tmp_path):
    guest = fresh_disks
    rows = b.a_few(b.module_rows(), per_option=1) + b.a_few(b.role_rows())
    path = os.path.join(str(tmp_path), "bad_input.yml")
    write_playbook(path, guest.name, rows)
    rc, report = run_playbook(lab.inventory_path, path)
    ran = dict(task_results(report, guest.name))
    problems = []
    for index, row in enumerate(rows):
        problems += what_is_wrong(row, {"index": index, "ran": ran})
    if ran["snapshot after"]["stdout"] != ran["snapshot before"]["stdout"]:
        problems.append("the host is not as it was before the first row")
    print("bad-input sweep on %s: %d inputs (%d module options, %d role variables)"
          % (guest.name, len(rows), len([r for r in rows if isinstance(r, b.ModuleRow)]),
             len([r for r in rows if isinstance(r, b.RoleRow)])))
    assert len(rows) >= 80           # the issue asks for at least 80
    assert not problems, "\n".join(problems)
