"""The filters that spell once what several roles need (plugins/filter/devmapper.py)."""

import captured
from ansible_collections.devmapper.storage.plugins.filter import devmapper as f


def test_docker_options_for_a_pool():
    assert f.docker_dm_opts("docker-thinpool", "10%") == [
        "dm.thinpooldev=/dev/mapper/docker-thinpool",
        "dm.use_deferred_removal=true",
        "dm.use_deferred_deletion=true",
        "dm.min_free_space=10%"]


def test_lvm_doubles_the_hyphens_inside_names():
    assert f.lvm_dm_name("docker", "thinpool") == "docker-thinpool"
    assert f.lvm_dm_name("my-vg", "thin-pool") == "my--vg-thin--pool"


def test_pool_activation_paths():
    paths = f.pool_activation_paths("docker-thinpool", ["docker.service", "containerd.service"])
    assert paths["files"] == [
        "/etc/devmapper-storage/pools/docker-thinpool.conf",
        "/etc/systemd/system/devmapper-pool@.service",
        "/usr/local/sbin/devmapper-pool-activate",
        "/etc/systemd/system/devmapper-pool@docker-thinpool.service.d/10-mounts.conf",
        "/etc/systemd/system/docker.service.d/10-devmapper-pool.conf",
        "/etc/systemd/system/containerd.service.d/10-devmapper-pool.conf"]
    assert paths["dropins"]["containerd.service"] == paths["files"][-1]


def test_the_filters_are_registered():
    assert set(f.FilterModule().filters()) == {"docker_dm_opts", "lvm_dm_name",
                                               "pool_activation_paths", "pool_activation_files",
                                               "pool_write_blocker"}


def test_the_activation_files_follow_the_paths_with_their_contents_and_modes():
    paths = f.pool_activation_paths("pool-a", ["docker.service", "containerd.service"])
    files = f.pool_activation_files(paths, config="C", unit="U", script="S", mounts="M",
                                    dropin="D")
    assert [e["path"] for e in files] == paths["files"]
    assert [(e["content"], e["mode"]) for e in files] == [
        ("C", "0644"), ("U", "0644"), ("S", "0755"), ("M", "0644"), ("D", "0644"),
        ("D", "0644")]


def test_why_a_pool_takes_no_writes_on_pools_captured_in_each_state():
    states = captured.load("pool_reports")["states"]

    def blocker(state):
        return f.pool_write_blocker(states[state]["result"]["pool"], "loop_lvm_data_size",
                                    "loop_lvm_metadata_size")
    for state in ("dm_new", "dm_used", "dm_warning", "dm_critical", "lvm_unmonitored"):
        assert blocker(state) == "", state
    assert blocker("dm_out_of_data_space") == (
        "pool docker-thinpool is still out of data space (256M of 256M in use): give "
        "loop_lvm_data_size larger than 256M")
    assert blocker("dm_needs_check").startswith(
        "pool docker-thinpool is flagged needs_check: its metadata must be checked")
    assert "load it again without it (playbooks/reactivate.yml)" in blocker("dm_read_only")
    assert blocker("dm_absent") == ("pool docker-thinpool is not active: bring it back first "
                                    "(playbooks/reactivate.yml)")
    assert "is not active" in blocker("lvm_inactive")
