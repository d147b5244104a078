"""The downtime in one module run: switch (the staged pool renamed, the files written, daemon.json
merged) and start (Docker let go, started, and checked on the new storage), and ``through``,
against the FakeHost of test_migration_steps (Docker's answers captured in guests)."""

import json
import os
import stat

import pytest

import test_migration_steps as fake
from ansible_collections.devmapper.storage.plugins.module_utils.migration import (
    host as mhost, rollback, run, steps, switch_steps)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

lab = fake.lab          # the fixture: Docker's directory and the parameters in tmp_path
BEFORE_SWITCH = steps.STEP_NAMES[:steps.STEP_NAMES.index("switch")]


def test_the_switch_renames_the_staged_pool_writes_the_files_and_merges_daemon_json(lab):
    lab.daemon_json.write_text('{"storage-driver": "devicemapper", "log-level": "warn"}')
    host, state = fake.begun(lab)
    # begin kept what the switch changes for a rollback: daemon.json and the pools directory
    assert sorted(state.data["config_paths"]) == sorted(lab.params["config_paths"])
    fake.advance(host, state, *BEFORE_SWITCH)
    del host.calls[:]
    fake.advance(host, state, "switch")
    assert host.calls == [["lvrename", "docker", "thinpool_migrating", "thinpool"]]
    wanted = lab.params["switch_files"][0]
    assert open(wanted["path"]).read() == wanted["content"]
    assert stat.S_IMODE(os.stat(wanted["path"]).st_mode) == 0o644
    assert json.loads(lab.daemon_json.read_text()) == dict(
        lab.params["daemon_settings"], **{"log-level": "warn"})        # the other keys stay
    host.lvs = ["other", "thinpool"]                                   # as lvrename left them
    assert steps.plan_switch(host, state, {}) == []                    # redone: nothing to do
    # the active pools' device nodes answer without lvs
    host.lv_names = None
    host.dm_nodes = {"docker-thinpool_migrating"}
    assert [a.command for a in switch_steps.plan_rename(host, state)] == [
        "lvrename docker thinpool_migrating thinpool"]
    host.dm_nodes = {"docker-thinpool"}
    assert switch_steps.plan_rename(host, state) == []


def test_the_switch_refuses_when_the_pool_made_before_the_stop_is_gone(lab):
    host, state = fake.begun(lab)
    fake.advance(host, state, *BEFORE_SWITCH)
    host.lvs = ["other"]
    before = lab.daemon_json.read_text()
    with pytest.raises(ModuleError, match="neither docker/thinpool nor the pool made before the "
                                          "stop .docker/thinpool_migrating. is there"):
        fake.advance(host, state, "switch")
    assert lab.daemon_json.read_text() == before and not host.load_state().is_done("switch")


def test_overlay2_removes_the_drop_in_that_needs_the_pool(lab):
    drop_in = lab.tmp / "etc" / "docker.service.d" / "10-devmapper-pool.conf"
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text("[Unit]\nRequires=devmapper-pool@docker-thinpool.service\n")
    host, state = fake.begun(lab, target="overlay2", staged_pool=None, switch_files=[],
                             switch_remove=[str(drop_in)],
                             daemon_settings={"storage-driver": "overlay2", "storage-opts": []})
    # the drop-in is not under a configuration path: begin copied it for a rollback
    assert state.data["config_paths"][str(drop_in)]
    fake.advance(host, state, *BEFORE_SWITCH)
    del host.calls[:]
    fake.advance(host, state, "switch")
    assert host.calls == [] and not drop_in.exists()
    assert json.loads(lab.daemon_json.read_text())["storage-driver"] == "overlay2"


def test_start_lets_docker_go_and_checks_it_runs_on_the_new_pool(lab):
    host, state = fake.begun(lab)
    fake.advance(host, state, *BEFORE_SWITCH + ("switch",))
    del host.calls[:]
    result = {}
    run.run_registered(host, state, "start", result)
    assert host.calls == [["release_hold"], ["systemctl", "start", "docker.service"]]
    assert result["storage"] == {"driver": "devicemapper", "pool": "docker-thinpool"}
    assert host.load_state().downtime is not None


def test_start_fails_when_docker_comes_back_on_another_pool(lab):
    host, state = fake.begun(lab, target_pool="other_pool")
    fake.advance(host, state, *BEFORE_SWITCH)
    host.lvs.append("other_pool")
    fake.advance(host, state, "switch")
    host.params["target_pool"] = "thinpool"         # Docker shows docker-thinpool (the fake)
    with pytest.raises(ModuleError, match="start: Docker reports devicemapper on pool "
                                          "docker-thinpool, not devicemapper on pool "
                                          "docker-other_pool"):
        fake.advance(host, state, "start")
    assert not host.load_state().is_done("start")


def test_one_call_runs_the_downtime_through_import_and_records_each_step(lab):
    host, state = fake.begun(lab)
    fake.advance(host, state, "export", "prepare")
    host.params.update(step="stop_containers", through="import")
    result = run.dispatch(host, state, "stop_containers")
    done = host.load_state()
    assert result["changed"] and done.done == list(steps.STEP_NAMES[:steps.STEP_NAMES.index(
        "import") + 1])
    assert set(done.data["finished_at"]) >= {"stop_containers", "start", "import"}
    host.params.update(through="prepare")
    with pytest.raises(ModuleError, match="through: prepare comes before step stop_containers"):
        run.dispatch(host, state, "stop_containers")
    host.params.update(step="export", through="stop")
    with pytest.raises(ModuleError, match="through: step prepare is the role's"):
        run.dispatch(host, host.load_state(), "export")


@pytest.mark.parametrize("switched", [False, True])
def test_a_rollback_removes_the_pool_under_the_name_it_has(lab, switched):
    host, state = fake.begun(lab)                   # the VG was there, with "other"
    fake.advance(host, state, *BEFORE_SWITCH + (("switch",) if switched else ()))
    if switched:
        host.lvs = ["other", "thinpool"]
    del host.calls[:]
    rollback.remove_what_was_made(host, host.load_state())
    assert host.calls == [["lvremove", "--yes", "docker/" + (
        "thinpool" if switched else "thinpool_migrating")], ["did", "lvremove --yes docker/" + (
            "thinpool" if switched else "thinpool_migrating")]]


def test_docker_is_held_by_a_flag_file_with_no_reload_while_it_is_down(lab, monkeypatch):
    """The drop-ins and the reload come at begin; the hold and its release are the flag file
    alone; the drop-ins go (one reload) at verify, or when a rollback lets Docker go."""
    units = lab.tmp / "systemd"
    monkeypatch.setattr(mhost, "UNIT_DIR", str(units))
    host = fake.FakeHost(fake.Module(lab.params))
    for name in ("install_hold", "hold_docker", "release_hold", "unhold_docker"):
        delattr(host, name)                             # the real ones, on files in tmp_path
    host.unit_active = lambda unit: False
    run.begin(host, None)
    flag = str(lab.state_file.parent / "docker-held")
    assert [c for c in host.calls if c[0] == "systemctl"] == [["systemctl", "daemon-reload"]]
    for unit in ("docker.socket", "docker.service"):
        text = (units / (unit + ".d") / "00-devmapper-migration-hold.conf").read_text()
        assert "[Unit]\nConditionPathExists=!%s\n" % flag in text
    assert not host.install_hold()                      # there already: no reload
    del host.calls[:]
    host.hold_docker()
    assert os.path.exists(flag)
    assert host.calls == [["systemctl", "stop", "docker.socket", "docker.service"]]
    del host.calls[:]
    host.release_hold()
    assert not os.path.exists(flag) and host.calls == []
    os.symlink("/dev/null", str(units / "docker.service"))     # masked by an earlier release
    host.unhold_docker()
    assert host.calls == [["systemctl", "unmask", "--no-reload", "docker.service"],
                          ["systemctl", "daemon-reload"]]
    assert not list(units.glob("*.d/*.conf"))
    assert steps.plan_verify(host, host.load_state(), {})[0].command.endswith(
        "systemctl daemon-reload")


def test_the_images_travel_in_one_archive_and_come_back_with_one_load(lab):
    host, state = fake.begun(lab)
    tags = sorted(t for i in state.data["inventory"]["images"] for t in i["tags"])
    assert len(state.data["inventory"]["images"]) > 1
    del host.calls[:]
    fake.advance(host, state, "export")
    archive = os.path.join(host.export_dir, "images.tar")
    assert host.calls == [["docker", "save", "--output", archive + ".part"] + tags]
    fake.advance(host, state, *steps.STEP_NAMES[1:steps.STEP_NAMES.index("import")])
    host.docker_cli.inspected["image"] = []             # the new storage has none
    assert host.started_empty                           # Docker started in this module run
    del host.calls[:]
    fake.advance(host, state, "import")
    assert host.calls == [["docker", "load", "--input", archive]]
    host.started_empty = False                          # a later module run looks
    assert steps.plan_import(host, state, {}) == []     # redone: they are all there
