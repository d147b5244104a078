"""Options that go together are declared in the modules' argument specs (required_if, required),
where AnsibleModule checks them before a module reads anything, instead of by hand in each
module's code (issue 16, item 2). Each case is checked with ansible-core's own validator on the
keyword arguments the module's main() gives AnsibleModule."""

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

import bad_inputs as b

CASES = [
    ("dm_thinpool", {"backend": "lvm"}, "vg"),
    ("dm_thinpool", {"backend": "dm", "data_device": "/dev/loop0",
                     "metadata_device": "/dev/loop1"}, "name"),
    ("dm_thinpool_info", {"backend": "lvm"}, "vg"),
    ("dm_thinpool_info", {"backend": "dm"}, "name"),
    ("dm_snapshot", {"pool": "docker-thinpool", "origin_id": 0}, "snapshot_id"),
    ("dm_base_device", {"pool": "docker-thinpool", "name": "base"}, "size"),
    ("docker_storage_migration", {"step": "record"}, "name"),
]


def errors(module, args):
    kwargs = b.module_arguments(module)
    constraints = ("required_if", "mutually_exclusive", "required_together", "required_one_of",
                   "required_by")
    validator = ArgumentSpecValidator(
        kwargs["argument_spec"], **dict((k, kwargs[k]) for k in constraints if k in kwargs))
    return [str(e) for e in validator.validate(args).errors]


@pytest.mark.parametrize("module,args,missing", CASES,
                         ids=lambda v: v if isinstance(v, str) else "")
def test_a_missing_option_is_refused_by_the_argument_spec(module, args, missing):
    found = errors(module, args)
    assert found and missing in found[0], found
    value = {"snapshot_id": 1, "vg": "docker", "size": "1G",
             "name": "prepare" if module.startswith("docker") else "x"}[missing]
    with_it = dict(args, **{missing: value})
    assert errors(module, with_it) == []


def test_absent_needs_no_size():
    assert errors("dm_base_device", {"pool": "docker-thinpool", "name": "base",
                                     "state": "absent"}) == []
