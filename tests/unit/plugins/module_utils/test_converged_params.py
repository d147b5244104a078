"""converged_state's options: what to compare comes from the options, from several sets of them
(``specs``, site.yml's record) or from the record (``recorded_spec``), never from two at once."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import converged as c
from ansible_collections.devmapper.storage.plugins.module_utils import dockerd_flags as f
from ansible_collections.devmapper.storage.plugins.module_utils import observation as o
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
import test_dockerd_flags as captured_unit


def params(**given):
    base = {"name": "site-loop_lvm", "state": "check", "fingerprint": "f", "files": [],
            "sizes": [], "dm_pools": [], "lvm_pools": [], "units": [], "docker": None,
            "specs": None, "recorded_spec": False, "record_dir": "/var/lib/devmapper-storage/converged"}
    base.update(given)
    return base


LOOP = {"files": ["/etc/docker/daemon.json"], "sizes": ["/var/lib/docker-loop/data"],
        "dm_pools": ["docker-thinpool"]}
DOCKER = {"units": ["docker.service"], "docker": {"driver": "devicemapper", "pool": "docker-thinpool"}}


@pytest.mark.parametrize("given,message", [
    ({"recorded_spec": True, "state": "record"}, "recorded_spec: only with state=check"),
    ({"recorded_spec": True, "files": ["/etc/docker/daemon.json"]},
     "recorded_spec: the record says what to compare; leave files unset"),
    ({"recorded_spec": True, "specs": [LOOP]}, "leave specs unset"),
    ({"specs": [LOOP], "units": ["docker.service"]}, "specs: give either specs or units"),
    ({"specs": [dict(LOOP, dm_pools=["a b"])]}, "dm_pools"),
    ({"specs": [dict(LOOP, files=["relative/file"])]}, "files"),
])
def test_conflicting_or_bad_options_are_refused(given, message):
    with pytest.raises(ModuleError) as caught:
        o.check_params(params(**given))
    assert message in caught.value.msg


def test_what_each_way_compares():
    record = c.new_record("f", {}, c.union_of_specs([LOOP, DOCKER]))
    assert o.wanted_spec(params(**LOOP), record) == (c.spec_of(LOOP), [])
    assert o.wanted_spec(params(state="record", specs=[LOOP, DOCKER]), None) == (
        c.union_of_specs([c.spec_of(LOOP), c.spec_of(DOCKER)]), [])
    assert o.wanted_spec(params(recorded_spec=True), record) == (record["spec"], [])
    for good in (params(**LOOP), params(state="record", specs=[LOOP, DOCKER]),
                 params(recorded_spec=True)):
        assert o.check_params(good) is good


class Host(object):
    """A host as observe() reads it: Docker on docker-thinpool, its unit as the guest of
    ``unit_state`` printed it (captured ``systemctl cat docker.service``)."""

    def __init__(self, unit_state):
        self.unit_state = unit_state
        self.services = []

    def missing(self, tool):
        return []

    def unit_states(self, units):
        return dict((unit, {"LoadState": "loaded", "ActiveState": "active",
                            "UnitFileState": "enabled"}) for unit in units)

    def docker_info(self):
        return {"driver": "devicemapper", "pool": "docker-thinpool"}

    def docker_flags(self, service):
        self.services.append(service)
        return f.storage_flags(captured_unit.unit(self.unit_state),
                               captured_unit.files(self.unit_state))


def test_storage_flags_in_dockers_unit_are_a_problem_as_the_preflight_words_it():
    spec = c.spec_of(DOCKER)
    observed, problems = o.observe(Host("docker_unit"), spec)
    assert problems == [] and observed["docker"] == DOCKER["docker"]
    host = Host("docker_flags")
    observed, problems = o.observe(host, c.spec_of(
        {"units": ["docker.service"], "docker": dict(DOCKER["docker"], service="docker.service")}))
    assert len(problems) == 1 and "dockerd is given storage options as flags" in problems[0]
    assert "override.conf" in problems[0] and "/etc/default/docker" in problems[0], problems
    assert host.services == ["docker.service"]
    # and such a host is neither converged nor recorded as converged
    record = c.new_record("f", observed, spec)
    assert c.judge(record, "f", observed, problems) == (False, problems)
