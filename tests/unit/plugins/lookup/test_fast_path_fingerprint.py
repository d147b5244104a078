"""The fast path's fingerprint: every role option and the collection's code, nothing else."""

import os
import shutil

import pytest

from ansible_collections.devmapper.storage.plugins.lookup import fast_path_fingerprint as f

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))


def test_options_are_those_of_every_role_argument_spec():
    names = f.role_options(REPO)
    assert "loop_lvm_data_size" in names and "docker_daemon_options" in names
    assert "direct_lvm_devices" in names and "storage_migration_target" in names
    prefixes = ("loop", "direct", "docker", "pool", "preflight", "storage", "containerd")
    assert all(n.split("_")[0] in prefixes for n in names)
    assert names == sorted(set(names))


@pytest.fixture
def collection(tmp_path):
    root = tmp_path / "storage"
    for top in f.CODE_DIRS:
        shutil.copytree(os.path.join(REPO, top), str(root / top),
                        ignore=shutil.ignore_patterns("__pycache__"))
    return str(root)


def test_code_digest_follows_roles_and_modules_only(collection):
    before = f.code_digest(collection)
    assert f.code_digest(collection) == before
    with open(os.path.join(collection, "README.md"), "w") as handle:
        handle.write("not code")
    assert f.code_digest(collection) == before
    tasks = os.path.join(collection, "roles", "loop_lvm", "tasks", "main.yml")
    with open(tasks, "a") as handle:
        handle.write("\n")
    assert f.code_digest(collection) != before


def test_fingerprint_changes_with_any_option_value():
    base = {"loop_lvm_data_size": "4G", "docker_daemon_options": {"iptables": False}}
    assert f.fingerprint("c", base) == f.fingerprint("c", dict(base))
    assert f.fingerprint("c", dict(base, loop_lvm_data_size="8G")) != f.fingerprint("c", base)
    assert f.fingerprint("c", dict(base, docker_daemon_options={})) != f.fingerprint("c", base)
    assert f.fingerprint("d", base) != f.fingerprint("c", base)


def test_options_from_facts_count_as_their_expression():
    assert f.is_from_facts("{{ by_family[ansible_facts.os_family | default('')] }}")
    assert not f.is_from_facts("{{ loop_lvm_pool_name }}")
    assert not f.is_from_facts("ansible_facts")
