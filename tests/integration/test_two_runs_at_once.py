"""Two runs against one host at once (issue 14): two ansible-playbook processes make the same
loop pool on a real guest at the same moment. The modules take turns on the host's lock, so both
runs end well, with one pool over one pair of loop devices; without the lock both attached the
files (two loop devices each) and the second pool create failed on the first one's name."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from conftest import run_playbook, task_results

TASKS = [
    {"name": "Files on loop devices",
     "devmapper.storage.loop_pool": {"data_file": "/var/tmp/hl/data",
                                     "metadata_file": "/var/tmp/hl/meta",
                                     "data_size": "256M", "metadata_size": "16M"},
     "register": "files"},
    {"name": "Pool over them",
     "devmapper.storage.dm_thinpool": {"backend": "dm", "name": "hl-pool",
                                       "data_device": "{{ files.data.loop_device }}",
                                       "metadata_device": "{{ files.metadata.loop_device }}"}},
]


@pytest.mark.disks()
def test_two_runs_at_once_take_turns_and_both_end_well(lab, fresh_disks, tmp_path):
    g = fresh_disks
    path = str(tmp_path / "pool.yml")
    with open(path, "w") as handle:
        yaml.safe_dump([{"name": "One pool", "hosts": g.name, "gather_facts": False,
                         "tasks": TASKS}], handle, sort_keys=False)
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(run_playbook, lab.inventory_path, path)
                for dummy in range(2)]
        done = [run.result() for run in runs]
    for rc, report in done:
        failed = [(n, r.get("msg")) for n, r in task_results(report, g.name) if r.get("failed")]
        assert rc == 0 and not failed, failed
    made = [any(r.get("changed") for n, r in task_results(report, g.name)
                if n == "Pool over them") for dummy, report in done]
    assert sorted(made) == [False, True], made     # one run made the pool, the other found it
    assert len(g.out("losetup -j /var/tmp/hl/data").splitlines()) == 1
    assert g.out("dmsetup table hl-pool").split()[2] == "thin-pool"

    # a role's run that waits longer than devmapper_storage_lock_timeout for the host's lock gives
    # up naming the holder and that variable (before issue 14's B2 it named the module option,
    # which a role's user cannot set), having changed nothing on disk
    g.sh("mkdir -p /run/devmapper-storage && (nohup flock /run/devmapper-storage/host.lock "
         "sh -c 'echo \"pid $$ (a test holding the lock)\" > /run/devmapper-storage/host.lock; "
         "exec sleep 90' >/dev/null 2>&1 &) && sleep 1")
    before = g.out("losetup --list --noheadings -O NAME,BACK-FILE; dmsetup table")
    role = str(tmp_path / "role.yml")
    with open(role, "w") as handle:
        yaml.safe_dump([{"name": "A loop pool", "hosts": g.name, "gather_facts": False,
                         "roles": ["devmapper.storage.loop_lvm"]}], handle, sort_keys=False)
    rc, report = run_playbook(lab.inventory_path, role, extra_vars={
        "devmapper_storage_lock_timeout": 3, "loop_lvm_configure_docker": False,
        "loop_lvm_data_file": "/var/tmp/hl2/data", "loop_lvm_metadata_file": "/var/tmp/hl2/meta",
        "loop_lvm_data_size": "256M", "loop_lvm_metadata_size": "16M",
        "loop_lvm_pool_name": "hl2-pool"})
    failed = [(n, r) for n, r in task_results(report, g.name) if r.get("failed")]
    assert rc != 0 and len(failed) == 1, failed
    name, result = failed[0]
    assert name.endswith("Sparse data and metadata files on loop devices"), name
    assert result["changed"] is False
    assert result["msg"].startswith("devmapper_storage_lock_timeout: another run has held this "
                                    "host's lock"), result["msg"]
    assert "for more than 3 s: pid " in result["msg"] and "(a test holding the lock)" in \
        result["msg"] and result["msg"].endswith("longer devmapper_storage_lock_timeout")
    assert g.out("losetup --list --noheadings -O NAME,BACK-FILE; dmsetup table") == before
    # the holder line's pid is the sleep (exec'd), whose end releases the lock
    g.sh("kill $(awk '{print $2}' /run/devmapper-storage/host.lock)")
