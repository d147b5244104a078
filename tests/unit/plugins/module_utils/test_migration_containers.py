"""What a migration carries of containers, on the real outputs of
tests/unit/fixtures/migration_containers.json (made by scripts/lib/capture_migration_containers.py:
`web` with every kept setting on the user-defined network appnet, `layered` with changes in its
writable layer, `joined` in web's network namespace by id): on test_migration_steps' FakeHost (its
Docker showing those captures, or migration.json's), the steps that stop, save, re-create and
verify containers, the stop step, preflight's refusal and the rollback. containers.py's pure
functions and the API client: test_migration_container_bodies.py."""

import copy
import hashlib
import json
import os
import re

import pytest

import captured
import test_migration_steps as fake
from ansible_collections.devmapper.storage.plugins.module_utils.migration import (
    checks, containers, rollback, run, steps)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.containers import (
    name_of)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, apply_plan)

lab = fake.lab          # the fixture: Docker's directory and the parameters in tmp_path
CAPTURE = "migration_containers"


def capture(command):
    return captured.output(CAPTURE, command)["stdout"]


def captured_containers(docker_root="/var/lib/docker"):
    return json.loads(fake.relocated(capture("docker container inspect web layered joined"),
                                     docker_root))


WEB, LAYERED, JOINED = captured_containers()
APPNET = json.loads(capture("docker network inspect appnet"))[0]
DIFFS = {"web": capture("docker diff web"), "layered": capture("docker diff layered")}
LAYER = "devmapper-migration/layer:%s-1" % LAYERED["Id"][:12]      # the first attempt's
# the steps up to the start on the new storage
BEFORE_IMPORT = steps.STEP_NAMES[:steps.STEP_NAMES.index("import")]


def shows_captured(docker):
    """The FakeDocker shows the captured containers, their network and volume; docker diff
    answers with the captured diffs."""
    root = docker.module.params["docker_root"]
    docker.inspected.update(
        container=captured_containers(root), network=[copy.deepcopy(APPNET)],
        volume=json.loads(fake.relocated(capture("docker volume inspect capdata"), root)))
    docker.diffs = dict((c["Id"], DIFFS[name_of(c)]) for c in docker.inspected["container"]
                        if name_of(c) in DIFFS)


def on_two_networks(inspect):
    """``inspect`` (web) on backnet too, a copy of appnet (a variant of the capture)."""
    two = copy.deepcopy(inspect)
    endpoint = copy.deepcopy(two["NetworkSettings"]["Networks"]["appnet"])
    endpoint.update(Aliases=["back", two["Id"][:12]], NetworkID="b" * 64, IPAddress="172.31.0.2")
    two["NetworkSettings"]["Networks"]["backnet"] = endpoint
    return two


BACKNET = dict(copy.deepcopy(APPNET), Name="backnet", Id="b" * 64,
               IPAM={"Driver": "default", "Options": {}, "Config": [{"Subnet": "172.31.0.0/16"}]})


def shows_web_on_two_networks(docker):
    shows_captured(docker)
    docker.inspected["network"].append(copy.deepcopy(BACKNET))
    found = docker.inspected["container"]
    found[found.index(docker.container("web"))] = on_two_networks(docker.container("web"))


class Api141(fake.FakeApi):
    """The captured daemon's API (Docker 20.10, API 1.41): before API 1.44 dockerd creates a
    container on one network and refuses more (its verifyNetworkingConfig); the others are
    connected after (POST /networks/NAME/connect)."""

    def create_container(self, name, body):
        networks = sorted(body["NetworkingConfig"]["EndpointsConfig"])
        if len(networks) > 1:
            raise ModuleError("Docker refused to create container %s (HTTP 400): Container cannot "
                              "be connected to network endpoints: %s" % (name, ", ".join(networks)))
        return fake.FakeApi.create_container(self, name, body)

    def connect_network(self, network, container, endpoint):
        self.calls.append(["docker_api", "connect_network", network, container])
        created = [c for c in self.docker.inspected["container"] if c["Id"] == container][0]
        created["NetworkSettings"]["Networks"][network] = endpoint


def captured_host(lab, shows=shows_captured, **params):
    """A host where step=begin ran, its Docker showing the captures (joined dropped) and
    answering as the captured daemon's API does."""
    os.makedirs(os.path.join(lab.root, "volumes", "capdata", "_data"))
    host, state = fake.begun(lab, shows=shows, drop_uncarriable_containers=True, **params)
    host.docker_api = Api141(host.docker_cli, host.calls)
    return host, state


# -- preflight ------------------------------------------------------------------------------------

def test_preflight_refuses_an_uncarriable_container_unless_told_to_drop_it(lab):
    host = fake.FakeHost(fake.Module(lab.params))
    shows_captured(host.docker_cli)
    before = fake.tree(lab.tmp)
    with pytest.raises(ModuleError) as refused:
        checks.preflight(host)
    message = refused.value.msg
    assert message.startswith("drop_uncarriable_containers: ") and message.endswith(
        "(nothing was changed)")
    assert "joined (HostConfig.NetworkMode=container:%s" % WEB["Id"] in message
    assert "drop_uncarriable_containers=true" in message
    assert "layered" not in message and "web (" not in message
    assert host.calls == [["docker", "container", "inspect", "joined", "layered", "web"]]
    host.params["drop_uncarriable_containers"] = True
    checked = checks.preflight(host)
    assert checked["inventory"]["uncarriable_containers"] == [
        "joined (%s)" % containers.uncarriable(JOINED)[0]]
    assert fake.tree(lab.tmp) == before


# -- stop_containers and stop ---------------------------------------------------------------------

def test_stop_containers_records_the_running_ones_then_stops_each_and_stop_holds_docker(lab):
    host, state = fake.begun(lab)
    fake.advance(host, state, "export", "prepare")
    del host.calls[:]
    stops = [["docker", "stop", "--time", str(c["Config"].get("StopTimeout", 10)), c["Name"][1:]]
             for c in fake.inspected("container", lab.root) if c["State"]["Running"]]
    assert stops == [["docker", "stop", "--time", "10", "runner"]]
    actions = steps.plan_stop_containers(host, state, {})
    actions[0].apply()                                  # inspect (keeper's layer: no changes)
    assert "downtime_began_at" not in host.load_state().data
    del host.calls[:]
    actions[1].apply()
    assert host.load_state().running_before_stop == ["runner"] and host.calls == []
    actions[2].apply()
    began = host.load_state().data["downtime_began_at"]
    assert began and host.calls == []                   # the downtime begins with the first stop
    actions[3].apply()
    assert host.calls == stops
    fake.advance(host, state, "stop_containers")
    record = host.read_json(os.path.join(host.export_dir, "containers.json"))
    assert [name_of(c) for c in record["containers"]] == ["keeper", "runner"]
    assert (record["layers"], record["dropped"], record["networks"]) == ({}, [], [])
    # in the same module run, the stop step does not look again
    assert host.containers_stopped and [a.command for a in steps.plan_stop(host, state, {})][
        :1] == ["record the time in %s" % host.params["state_file"]]
    # after a power cut Docker started again, and runner with it: the stop step stops it again
    host.containers_stopped = False                     # a new module run
    host.docker_cli.container("runner")["State"]["Running"] = True
    del host.calls[:]
    actions = steps.plan_stop(host, state, {})
    apply_plan(actions)
    assert host.calls == stops + [["hold_docker"]]
    assert host.load_state().running_before_stop == ["runner"]
    assert host.load_state().data["downtime_began_at"] == began     # kept from the first stop
    host.mounts = fake.LEFT_MOUNTED
    with pytest.raises(ModuleError) as refused:
        actions[-1].apply()
    assert fake.LEFT_MOUNTED and all(m in refused.value.msg for m in fake.LEFT_MOUNTED)
    with pytest.raises(ModuleError, match="still mounted under"):
        run.run_registered(host, state, "stop", {})
    assert not host.load_state().is_done("stop")
    host.docker_cli.running = False         # held stopped already (a power cut): nothing to ask
    assert len(steps.plan_stop(host, state, {})) == 3     # the time (kept), the hold, the check


@pytest.mark.parametrize("mode", ["move", "archive"])
def test_a_mount_on_docker_root_itself_is_refused_only_where_it_would_be_moved(lab, mode):
    host, state = fake.begun(lab, backup_mode=mode)
    check, root = steps.plan_stop(host, state, {})[-1], os.path.realpath(lab.root)
    for host.mounts in ([root], [root, root + "/devicemapper/mnt/abc"]):
        if mode == "archive" and host.mounts == [root]:     # what archive mode exists for
            check.apply()
        else:
            with pytest.raises(ModuleError, match=re.escape(host.mounts[-1])):
                check.apply()


def test_save_containers_commits_only_a_changed_layer_and_leaves_the_dropped_out(lab):
    host, state = captured_host(lab)
    fake.advance(host, state, "export", "prepare")
    del host.calls[:]
    apply_plan(steps.plan_stop_containers(host, state, {}))
    layers = os.path.join(host.export_dir, "layers.tar")
    # what does not run is inspected and committed before the first stop (outside the
    # downtime); a layer of one that ran is looked at once it stopped
    assert host.calls == [
        ["docker", "container", "inspect", "joined", "layered", "web"],
        ["docker", "diff", LAYERED["Id"]],
        ["docker", "commit", "--pause=false", LAYERED["Id"], LAYER],
        ["docker", "stop", "--time", "7", "web"],                   # its own --stop-timeout
        ["docker", "diff", WEB["Id"]],
        ["docker", "network", "inspect", "appnet"],
        ["docker", "save", "--output", layers + ".part", LAYER]]
    assert host.load_state().running_before_stop == ["web"]
    record = host.read_json(os.path.join(host.export_dir, "containers.json"))
    inspects = dict((name_of(c), c) for c in captured_containers(lab.root))
    assert inspects["web"]["State"]["Running"]                   # inspected before its stop
    assert record["containers"] == [inspects["layered"], inspects["web"]]
    assert record["networks"] == [APPNET]
    assert record["layers"] == {"layered": LAYER}
    assert record["dropped"] == [{"name": "joined", "fields": containers.uncarriable(JOINED)}]
    with open(layers, "rb") as handle:
        assert record["layers_sha256"] == hashlib.sha256(handle.read()).hexdigest()


# -- recreate and verify --------------------------------------------------------------------------

def test_recreate_makes_the_network_then_the_containers_and_starts_those_that_ran(lab):
    host, state = captured_host(lab)
    fake.advance(host, state, *BEFORE_IMPORT)
    host.started_empty = False      # import in a later module run: the images are there
    docker = host.docker_cli
    docker.inspected.update(container=[], network=[])        # the new storage
    del host.calls[:]
    result = {}
    fake.advance(host, state, "import")
    run.run_registered(host, state, "recreate", result)
    assert host.calls == [
        ["docker", "load", "--input", os.path.join(host.export_dir, "layers.tar")],
        ["docker_api", "create_network", "appnet"],
        ["docker_api", "create_container", "layered", LAYER],
        ["docker_api", "create_container", "web", WEB["Config"]["Image"]],
        ["docker", "start", "web"]]
    assert docker.inspected["network"][0]["IPAM"]["Config"] == [{"Subnet": "172.30.0.0/16"}]
    assert [(name_of(c), c["State"]["Running"]) for c in docker.inspected["container"]] == [
        ("layered", False), ("web", True)]
    ids = dict((name_of(c), {"old": c["Id"], "new": docker.container(name_of(c))["Id"]})
               for c in (LAYERED, WEB))
    assert host.load_state().container_ids == ids and ids["web"]["new"] != WEB["Id"]
    assert [d["name"] for d in result["dropped_containers"]] == ["joined"]
    assert steps.plan_recreate(host, state, {}) == []               # redone: nothing left
    result = {}
    run.run_registered(host, state, "verify", result)
    assert result["verified"] == {"images": 2, "volumes": 1, "containers": 2}
    assert result["containers"] == ids
    # only what is missing is made again, on the network that is there
    docker.inspected["container"] = [docker.container("web")]
    assert [a.command for a in steps.plan_recreate(host, state, {})] == [
        "POST /containers/create?name=layered (image %s)" % LAYER]


def test_the_old_bridge_goes_before_its_network_is_made_again_and_a_rollback_deletes_the_new(lab):
    # The old Docker's bridge stays after it stopped (live-restore, or a leftover) with the
    # network's subnet; on a guest the new network's containers were not reached until it went.
    host, state = captured_host(lab)
    fake.advance(host, state, *BEFORE_IMPORT)
    host.started_empty = False      # import in a later module run: the images are there
    host.docker_cli.inspected.update(container=[], network=[])
    appnet = json.loads(capture("docker network inspect appnet"))[0]
    old_bridge = "br-" + appnet["Id"][:12]
    host.links.update([old_bridge, "docker0"])
    del host.calls[:]
    fake.advance(host, state, "import", "recreate")
    assert host.calls[1:3] == [["ip", "link", "delete", old_bridge],
                               ["docker_api", "create_network", "appnet"]]
    assert host.load_state().networks_made == {"appnet": {"id": "net-appnet",
                                                          "bridge": "br-net-appnet"}}
    host.links.add("br-net-appnet")
    del host.calls[:]
    rollback.rollback(host, host.load_state())
    assert ["ip", "link", "delete", "br-net-appnet"] in host.calls
    assert "docker0" in host.links


def test_a_container_on_two_networks_is_recreated_on_both(lab):
    host, state = captured_host(lab, shows=shows_web_on_two_networks)
    fake.advance(host, state, *BEFORE_IMPORT)
    host.started_empty = False      # import in a later module run: the images are there
    docker = host.docker_cli
    docker.inspected.update(container=[], network=[])        # the new storage
    del host.calls[:]
    fake.advance(host, state, "import", "recreate")
    web = docker.container("web")
    assert host.calls[1:] == [
        ["docker_api", "create_network", "appnet"], ["docker_api", "create_network", "backnet"],
        ["docker_api", "create_container", "layered", LAYER],
        ["docker_api", "create_container", "web", "cap:1"],
        ["docker_api", "connect_network", "backnet", web["Id"]], ["docker", "start", "web"]]
    assert sorted(web["NetworkSettings"]["Networks"]) == ["appnet", "backnet"]
    assert web["NetworkSettings"]["Networks"]["backnet"]["Aliases"] == ["back"]
    fake.advance(host, state, "verify")


def test_verify_names_each_container_that_differs_or_does_not_run(lab):
    host, state = captured_host(lab)
    fake.advance(host, state, *BEFORE_IMPORT)
    host.started_empty = False      # import in a later module run: the images are there
    host.docker_cli.inspected.update(container=[], network=[])
    fake.advance(host, state, "import", "recreate")
    web = host.docker_cli.container("web")
    web["HostConfig"]["RestartPolicy"] = {"Name": "always", "MaximumRetryCount": 0}
    web["State"]["Running"] = False
    with pytest.raises(ModuleError) as failed:
        steps.verify(host, state, {})
    problems = failed.value.details["problems"]
    assert len(problems) == 2 and problems[1] == "container web is not running"
    assert problems[0].startswith("container web: HostConfig.RestartPolicy is {'Name': 'always'")
    assert "'unless-stopped'" in problems[0]
    host.docker_cli.inspected["container"] = [web]
    with pytest.raises(ModuleError, match="container layered is missing"):
        steps.verify(host, state, {})


def test_verify_compares_each_carried_volume_with_what_docker_shows(lab):
    host, state = fake.begun(lab)
    old_ids = dict((name_of(c), c["Id"]) for c in host.docker_cli.inspected["container"])
    fake.advance(host, state, *BEFORE_IMPORT)
    host.started_empty = False      # import in a later module run: the images are there
    host.docker_cli.inspected["container"] = []        # the new storage, before the re-creation
    fake.advance(host, state, "import", "recreate")
    result = {}
    run.run_registered(host, state, "verify", result)
    assert result["verified"] == {"images": 2, "volumes": 1, "containers": 2}
    assert dict((n, ids["old"]) for n, ids in result["containers"].items()) == old_ids
    data = os.path.join(lab.root, "volumes", "appdata", "_data")
    os.rename(data, data + ".old")
    os.mkdir(data)                          # same path, another directory
    with pytest.raises(ModuleError, match="volume appdata is not the directory carried over"):
        steps.verify(host, state, {})
    host.docker_cli.inspected["volume"] = [v for v in host.docker_cli.inspected["volume"]
                                           if v["Name"] != "appdata"]
    with pytest.raises(ModuleError, match="volume appdata is missing") as failed:
        steps.verify(host, state, {})
    assert failed.value.details["problems"] == ["volume appdata is missing"]


# -- rollback -------------------------------------------------------------------------------------

def test_a_rollback_before_docker_stopped_starts_the_containers_that_ran(lab):
    host, state = captured_host(lab)
    fake.advance(host, state, "export", "prepare", "stop_containers")
    before = fake.tree(lab.root)
    del host.calls[:]
    assert not host.docker_cli.container("web")["State"]["Running"]
    rollback.rollback(host, state)
    # the pool prepare made (under its staged name) is removed: Docker never used it
    assert host.calls == [["did", "roll back"],
                          ["systemctl", "is-active", "--quiet", "docker.service"],
                          ["lvremove", "--yes", "docker/thinpool_migrating"],
                          ["did", "lvremove --yes docker/thinpool_migrating"],
                          ["unhold_docker"], ["docker", "start", "web"],
                          ["did", "/usr/bin/docker start web"],
                          ["docker", "image", "rm", LAYER], ["did", "docker image rm " + LAYER]]
    assert host.docker_cli.container("web")["State"]["Running"]
    assert fake.tree(lab.root) == before
    done = host.load_state().data
    assert (done["phase"], done["done"], done["rollback_files_verified"]) == (
        "rolled_back", [], None)


def test_a_rollback_does_not_start_a_container_that_removed_itself(lab):
    # one run with --rm is gone once stopped; starting it failed the rollback at its end
    host, state = captured_host(lab)
    fake.advance(host, state, "export", "prepare", "stop_containers")
    docker = host.docker_cli
    docker.inspected["container"].remove(docker.container("web"))
    del host.calls[:]
    rollback.rollback(host, state)
    assert not [c for c in host.calls if c[:2] == ["docker", "start"]]
    assert host.load_state().phase == "rolled_back"


@pytest.mark.parametrize("created_vg", [False, True])
def test_rollback_puts_the_files_back_before_lvm_then_starts_docker(lab, created_vg):
    old_config, before = lab.daemon_json.read_text(), fake.files(lab.root)
    host, state = fake.begun(lab, vg=not created_vg)
    host.vg = True
    assert (state.data["created_vg"], state.data["lvs_before"]) == (
        (True, []) if created_vg else (False, ["other"]))
    fake.advance(host, state, "export", "prepare", "stop_containers", "stop", "backup", "carry_volumes",
                 "release_source")
    # the switch: new configuration, a new pool, a new storage that wrote in Docker's directory
    host.lvs = ["other", "thinpool"]
    lab.daemon_json.write_text('{"storage-driver": "devicemapper", "storage-opts": []}')
    os.makedirs(lab.params["config_paths"][1])
    os.makedirs(os.path.join(lab.root, "devicemapper", "metadata"))
    fake.advance(host, state, "switch", "start")
    state.note_running(["keeper"])                      # keeper ran too
    runner = host.docker_cli.container("runner")
    runner["State"]["Running"] = True                   # runs on the new storage
    start_docker = host.start_docker_and_wait

    def dockerd_on_the_old_storage(seconds=120):        # starts runner again (restart policy)
        runner["State"]["Running"] = True
        return start_docker(seconds)
    host.start_docker_and_wait = dockerd_on_the_old_storage
    open(rollback.POOL_CONF % state.data["source"]["pool"], "w").close()
    del host.calls[:]
    rollback.rollback(host, state)
    log = [" ".join(c).replace(host.docker_backup, "BACKUP").replace(lab.root, "ROOT")
           for c in host.calls]
    lvm = (["vgchange --activate n docker", "vgremove --force docker", "pvremove --yes /dev/ubdb",
            "did vgremove --force docker; pvremove /dev/ubdb"] if created_vg else
           ["lvremove --yes docker/thinpool", "did lvremove --yes docker/thinpool"])
    expected = ["did roll back", "docker stop --time 10 runner",
                "did /usr/bin/docker stop --time 10 runner", "hold_docker", "did put back",
                "systemctl daemon-reload", "did mv ROOT/volumes BACKUP/volumes",
                "did mv ROOT ROOT.migration-failed.", "did mv BACKUP ROOT"] + lvm + [
        "systemctl restart devmapper-pool@", "did systemctl restart", "unhold_docker",
        "systemctl start docker.service", "did systemctl start", "docker start keeper",
        "did /usr/bin/docker start keeper"]
    assert len(log) == len(expected) and all(map(str.startswith, log, expected)), log
    assert fake.files(lab.root) == before and not os.path.exists(host.docker_backup)
    assert lab.daemon_json.read_text() == old_config
    assert not os.path.exists(lab.params["config_paths"][1])
    aside = [e for e in log if e.startswith("did mv ROOT ROOT.")][0].split()[-1]
    assert sorted(fake.files(aside.replace("ROOT", lab.root))) == [
        "devicemapper", "devicemapper/metadata"]
    done = host.load_state().data
    assert (done["phase"], done["done"], done["rollback_files_verified"]) == (
        "rolled_back", [], None)       # move mode hashes the backup at verify, not before
