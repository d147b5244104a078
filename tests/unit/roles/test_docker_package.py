"""Which package docker_daemon installs per OS family, templated by Ansible from the role's own
defaults and vars, and whether the role's refusal lets the install go ahead: on RHEL-family hosts
the distribution's `docker` package is podman-docker, so the role refuses instead of installing
it (before the fix it installed `docker` there)."""

import os

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "roles",
                    "docker_daemon")
REFUSAL = "Refuse to install Docker where the distribution has no Docker package"


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def templar(os_family):
    values = dict(load("defaults", "main.yml"), **load("vars", "main.yml"))
    values = dict((k, trust_as_template(v) if isinstance(v, str) else v)
                  for k, v in values.items())
    values["ansible_facts"] = {"os_family": os_family}
    return Templar(loader=DataLoader(), variables=values)


def refusal_allows(os_family):
    task = [t for t in load("tasks", "main.yml") if t.get("name") == REFUSAL][0]
    that = task["ansible.builtin.assert"]["that"]
    return templar(os_family).template(trust_as_template("{{ %s }}" % that))


@pytest.mark.parametrize("os_family,package,installs", [
    ("Debian", "docker.io", True), ("Suse", "docker", True), ("RedHat", "", False),
])
def test_the_package_each_family_gets_and_whether_it_is_installed(os_family, package, installs):
    assert templar(os_family).template(trust_as_template("{{ docker_daemon_package }}")) == package
    assert refusal_allows(os_family) is installs
