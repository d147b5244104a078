"""The collection's quality gates, each a test so that one pytest run reports them all:
ansible-test sanity, ansible-lint (production profile), and every molecule scenario on test hosts."""

import glob
import os
import subprocess

import pytest

import migration_host
from conftest import REPO

SCENARIOS = sorted(os.path.basename(os.path.dirname(p))
                   for p in glob.glob(os.path.join(REPO, "molecule", "*", "molecule.yml")))


def run(argv, timeout, env=None):
    proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, check=False,
                          env=dict(os.environ, **(env or {})))
    assert proc.returncode == 0, "%s failed (rc=%d):\n%s" % (
        " ".join(argv), proc.returncode, proc.stdout[-20000:])
    return proc.stdout


def test_ansible_test_sanity():
    run([os.path.join(REPO, "scripts", "sanity")], timeout=1800)


def test_ansible_lint_production_profile():
    run([os.path.join(REPO, "scripts", "lint")], timeout=900)


def test_there_are_scenarios():
    assert "smoke" in SCENARIOS


# migrate boots the saved loop-lvm host: ordered after the first test that makes it
@pytest.mark.parametrize("scenario", [
    pytest.param(s, marks=pytest.mark.saved_guest("migration-loop-host")) if s == "migrate" else s
    for s in SCENARIOS])
def test_molecule_scenario(lab, scenario):
    env = {}
    if scenario == "migrate":
        # its platform boots from the saved loop-lvm host the migration tests use (create.yml),
        # instead of converging one of its own
        env[migration_host.STATE_ENV] = migration_host.loop_host_state(lab)
    out = run(["molecule", "test", "-s", scenario], timeout=1800, env=env)
    assert "verify" in out
