"""The collection's quality gates, each a test so that one pytest run reports them all:
ansible-test sanity, ansible-lint (production profile), and every molecule scenario on test hosts."""

import glob
import os
import subprocess

import pytest

from conftest import REPO

SCENARIOS = sorted(os.path.basename(os.path.dirname(p))
                   for p in glob.glob(os.path.join(REPO, "molecule", "*", "molecule.yml")))


def run(argv, timeout):
    proc = subprocess.run(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, check=False)
    assert proc.returncode == 0, "%s failed (rc=%d):\n%s" % (
        " ".join(argv), proc.returncode, proc.stdout[-20000:])
    return proc.stdout


def test_ansible_test_sanity():
    run([os.path.join(REPO, "scripts", "sanity")], timeout=1800)


def test_ansible_lint_production_profile():
    run([os.path.join(REPO, "scripts", "lint")], timeout=900)


def test_there_are_scenarios():
    assert "smoke" in SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario):
    out = run(["molecule", "test", "-s", scenario], timeout=1800)
    assert "verify" in out
