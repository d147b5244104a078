"""The migration's steps, control steps and rollback against a FakeHost, a MigrationHost that runs
no tool: Docker answers with JSON captured in guests (migration.json; docker info: docker_loop_lvm),
xfs_info with xfs_ftype.json, the mounts left after dockerd stopped with container_filesystems.json;
commands (docker inspect, diff, commit, save, stop, start too), Docker's API, systemd and LVM are
recorded in ``host.calls``. Files are real, in tmp_path. The steps that stop, carry and verify
containers, and the rollback, are tested with this FakeHost in test_migration_containers.py."""

import errno
import functools
import hashlib
import json
import os
import pathlib
import re
import stat
import types

import pytest
import yaml

import captured
from ansible_collections.devmapper.storage.plugins.module_utils.container_filesystems import mounts
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker import DockerCli
from ansible_collections.devmapper.storage.plugins.module_utils.host.lvm import parse_pvs
from ansible_collections.devmapper.storage.plugins.module_utils.host.systemd import Systemd
from ansible_collections.devmapper.storage.plugins.module_utils.lvm_pool import lvm_dm_name
from ansible_collections.devmapper.storage.plugins.module_utils.migration import (
    checks, host as mhost, inventory, rollback, run, steps)
from ansible_collections.devmapper.storage.plugins.module_utils.migration.containers import name_of
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError, ToolRunner, apply_plan)
from ansible_collections.devmapper.storage.plugins.modules import docker_storage_migration

MIGRATION = captured.load("migration")
LOOP_LVM_INFO = captured.output("docker_loop_lvm", "docker info")["stdout"]
XFS_INFO = dict((n, captured.output("xfs_ftype", "xfs_info /mnt/ftype%d" % n)["stdout"])
                for n in (0, 1))
PVS = parse_pvs(captured.output("lvm_pool", "pvs")["stdout"])      # {"/dev/ubdb": "docker"}
# what was still mounted under /var/lib/docker after dockerd stopped (live-restore)
LEFT_MOUNTED = inventory.mounts_under(
    [m["mount_point"] for m in mounts(captured.load("container_filesystems")
                                      ["dockerd_mountinfo_after_stop"])], "/var/lib/docker")
OPTIONS = yaml.safe_load(docker_storage_migration.DOCUMENTATION)["options"]


def relocated(text, docker_root):
    """A capture's text with the guest's /var/lib/docker moved to the test's docker_root."""
    return re.sub(r'/var/lib/docker(?=[/"])', docker_root, text)


def inspected(kind, docker_root):
    text = [v["stdout"] for k, v in MIGRATION.items() if k.startswith("docker %s " % kind)][0]
    return json.loads(relocated(text, docker_root))


def Module(params, check_mode=False):
    """A stand-in for AnsibleModule: params, check_mode, atomic_move; no tool is ever run."""
    return types.SimpleNamespace(params=params, check_mode=check_mode, atomic_move=os.rename,
                                 get_bin_path=lambda name, required=False: "/usr/bin/" + name)


class Recorder(ToolRunner):
    """A tool that is never run: each command line goes to ``calls``; ``answer`` (args -> stdout)
    says what it would print."""

    def __init__(self, module, tool, calls, answer=lambda args: ""):
        ToolRunner.__init__(self, module, tool)
        self.calls, self.answer = calls, answer

    def run(self, args, check=True, data=None):
        args = [str(a) for a in args]
        self.calls.append([self.tool] + args)
        return 0, self.answer(args), ""


class FakeDocker(DockerCli):
    """Docker's objects (``inspected``: kind -> inspect JSON; ``diffs``: container id -> docker
    diff), listed without a call; ``docker KIND inspect``, ``diff``, ``stop`` and ``start`` are
    recorded and answered from them (stop and start change the container's State.Running)."""

    def __init__(self, module, calls, docker_root):
        DockerCli.__init__(self, module)
        self.docker = Recorder(module, "docker", calls, self.answer)
        self.running = True
        self.inspected = dict((kind, inspected(kind, docker_root))
                              for kind in ("image", "volume", "container"))
        self.inspected["network"], self.diffs = [], {}

    def info(self):
        return json.loads(relocated(LOOP_LVM_INFO, self.module.params["docker_root"])) \
            if self.running else None

    def inspect_all(self, kind):
        return self.inspected[kind]

    def container(self, name):
        return [c for c in self.inspected["container"] if name_of(c) == name][0]

    def answer(self, args):
        if args[1:2] == ["inspect"]:
            return json.dumps([o for n in args[2:] for o in self.inspected[args[0]]
                               if n in (name_of(o), o.get("Id"))])
        if args[0] == "diff":
            return self.diffs.get(args[1], "")
        if args[0] in ("stop", "start"):
            self.container(args[-1])["State"]["Running"] = args[0] == "start"
        return ""

    def save(self, output, tags):
        """Recorded; the file stands in for the archive: the inspects of the images saved (an
        image committed in the test, not in the capture, by its tags alone)."""
        DockerCli.save(self, output, tags)
        known = [i for i in self.inspected["image"] if set(i.get("RepoTags") or []) & set(tags)]
        rest = sorted(set(tags) - set(t for i in known for t in i["RepoTags"]))
        if rest:
            known.append({"Id": "sha256:" + hashlib.sha256(" ".join(rest).encode()).hexdigest(),
                          "RepoTags": rest, "Size": 1})
        with open(output, "w") as handle:
            json.dump(known, handle)

    def load(self, path):
        """Recorded; the images saved in ``path`` (by save) show, those not there already."""
        DockerCli.load(self, path)
        have = set(i["Id"] for i in self.inspected["image"])
        self.inspected["image"] += [i for i in json.loads(pathlib.Path(path).read_text())
                                    if i["Id"] not in have]


class FakeApi(object):
    """Docker's API: each creation recorded in ``calls``, then shown by the FakeDocker as Docker
    would show it."""

    def __init__(self, docker, calls):
        self.docker, self.calls = docker, calls

    def create_network(self, body):
        self.calls.append(["docker_api", "create_network", body["Name"]])
        self.docker.inspected["network"].append(dict(body, Id="net-" + body["Name"]))
        return "net-" + body["Name"]

    def create_container(self, name, body):
        self.calls.append(["docker_api", "create_container", name, body["Image"]])
        new_id, config = hashlib.sha256(name.encode()).hexdigest(), dict(body)
        self.docker.inspected["container"].append({
            "Id": new_id, "Name": "/" + name, "State": {"Running": False}, "Config": config,
            "HostConfig": config.pop("HostConfig"),
            "NetworkSettings": {"Networks": config.pop("NetworkingConfig")["EndpointsConfig"]}})
        return new_id


class FakeHost(mhost.MigrationHost):
    def __init__(self, module):
        mhost.MigrationHost.__init__(self, module, steps.STEP_NAMES)
        self.calls = []
        self.docker_cli = FakeDocker(module, self.calls, self.docker_root)
        self.docker_api = FakeApi(self.docker_cli, self.calls)
        self.systemd = Systemd(module)
        self.systemd.systemctl = Recorder(module, "systemctl", self.calls)
        self.lvm_tools = dict((name, Recorder(module, name, self.calls)) for name in self.lvm_tools)
        self.lvm = types.SimpleNamespace(
            pv_names=lambda vg: sorted(pv for pv, owner in PVS.items() if owner == vg))
        self.dm = types.SimpleNamespace(backend=lambda name: self.backend)
        self.backend, self.vg, self.lvs, self.mounts = "loop", True, ["other"], []
        self.links = set()
        self.link_exists = lambda name: name in self.links
        self.delete_link = lambda name: self.calls.append(["ip", "link", "delete", name]) or \
            self.links.discard(name)
        self.fs, self.xfs_info = "ext4", XFS_INFO[1]
        # what reads or changes the host through tools, replaced
        self.hold_docker = lambda: self.calls.append(["hold_docker"])
        self.unhold_docker = lambda: self.calls.append(["unhold_docker"])
        self.release_hold = lambda: self.calls.append(["release_hold"])
        self.install_hold = lambda: self.calls.append(["install_hold"]) and False
        self.release_loop_pool = lambda name: self.calls.append(["release_loop_pool", name]) or []
        self.mounts_under_docker_root = lambda: list(self.mounts)
        self.fs_type = lambda path: self.fs
        self.xfs_ftype = lambda where: inventory.xfs_ftype(self.xfs_info)
        self.vg_exists = lambda vg: self.vg
        self.dm_nodes = set()               # /dev/mapper: none, so lvs (lv_names) is asked
        self.dm_node_exists = lambda name: name in self.dm_nodes
        self.lv_names = lambda vg: list(self.lvs) if self.vg else []
        self.tar_extract = lambda archive, directory, exclude=(): self.calls.append(
            ["tar_extract", archive, directory] + list(exclude))

    def start_docker_and_wait(self, seconds=120):
        """systemctl start, recorded; Docker shows the pool the switch named (the capture was
        made on Docker's own loop-lvm pool)."""
        info = mhost.MigrationHost.start_docker_and_wait(self, seconds)
        pool = lvm_dm_name(self.params["target_vg"], self.params["target_pool"])
        return dict(info, DriverStatus=[["Pool Name", pool]]) if info else info

    def did(self, command, why=""):
        mhost.MigrationHost.did(self, command, why)
        self.calls.append(["did", command])

    def tar_create(self, archive, directory, exclude=()):
        self.calls.append(["tar_create", archive, directory] + list(exclude))
        with open(archive, "w") as handle:
            handle.write("stands in for the tar of %s" % directory)


def files(top, changes=False):
    """{relative path: (inode, content: bytes, a link's target or None)} of everything under top;
    with ``changes`` also each entry's mode and mtime, so that any change shows."""
    found = {}
    for directory, dirs, names in os.walk(str(top)):
        for name in dirs + names:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            content = os.readlink(path) if stat.S_ISLNK(info.st_mode) else \
                pathlib.Path(path).read_bytes() if stat.S_ISREG(info.st_mode) else None
            found[os.path.relpath(path, str(top))] = (info.st_ino, content) + (
                (info.st_mode, info.st_mtime_ns) if changes else ())
    return found


tree = functools.partial(files, changes=True)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """Docker's directory, two configuration files and the parameters, all in tmp_path."""
    monkeypatch.setattr(checks, "free_bytes", lambda path: 1 << 40)
    monkeypatch.setattr(rollback, "POOL_CONF", str(tmp_path / "pool-%s.conf"))
    root = tmp_path / "var" / "lib" / "docker"
    for rel, text in (("devicemapper/devicemapper/metadata", "pool"), ("volumes/metadata.db", "db"),
                      ("image/devicemapper/repositories.json", "{}"),
                      ("volumes/appdata/_data/file", "data the container wrote")):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    os.symlink("image/devicemapper", str(root / "link"))
    daemon_json, state_file = tmp_path / "etc" / "daemon.json", tmp_path / "state" / "m.json"
    daemon_json.parent.mkdir()
    daemon_json.write_text('{"storage-driver": "devicemapper"}')
    params = dict((name, option.get("default")) for name, option in OPTIONS.items())
    params.update(target="direct_lvm", target_vg="docker", docker_root=str(root),
                  backup_dir=str(tmp_path / "var" / "lib" / "docker-migration"),
                  state_file=str(state_file), daemon_config_path=str(daemon_json),
                  config_paths=[str(daemon_json), str(tmp_path / "etc" / "pools")],
                  # what the role gives: the pool made as thinpool_migrating, its boot settings
                  staged_pool="thinpool_migrating", daemon_settings={
                      "storage-driver": "devicemapper",
                      "storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool"]},
                  switch_files=[{"path": str(tmp_path / "etc" / "pools" / "docker-thinpool.conf"),
                                 "content": "BACKEND=lvm\nVG=docker\nLV=thinpool\n",
                                 "mode": "0644"}])
    return types.SimpleNamespace(tmp=tmp_path, root=str(root), params=params,
                                 daemon_json=daemon_json, state_file=state_file)


def begun(lab, vg=True, shows=None, **params):
    """A host where step=begin ran (``vg``: whether the target VG was there; ``shows``, given the
    FakeDocker, makes it show other objects than migration.json's)."""
    host = FakeHost(Module(dict(lab.params, **params)))
    host.vg = vg
    if shows:
        shows(host.docker_cli)
    run.begin(host, None)
    return host, host.load_state()


def advance(host, state, *names):
    for name in names:
        if name == "prepare":       # the role makes the pool, under the name it is given
            host.lvs.append(host.params["staged_pool"] or host.params["target_pool"])
        run.run_registered(host, state, name, {})


def data_identity(lab):
    info = os.stat(os.path.join(lab.root, "volumes", "appdata", "_data"))
    return [info.st_dev, info.st_ino]


def test_the_registry_orders_the_steps_and_gives_the_module_its_choices():
    assert steps.STEP_NAMES == ("export", "prepare", "stop_containers", "stop", "backup",
                                "carry_volumes", "release_source", "switch", "start", "import",
                                "recreate", "verify")
    assert run.RECORD_CHOICES == ("prepare",) == steps.ROLE_STEPS
    assert run.STEP_CHOICES == run.CONTROL_STEPS + tuple(
        s for s in steps.STEP_NAMES if s != "prepare")
    assert set(OPTIONS["step"]["choices"]) == set(run.STEP_CHOICES)
    assert set(OPTIONS["name"]["choices"]) == set(run.RECORD_CHOICES)
    assert OPTIONS["through"]["choices"] == list(steps.MODULE_STEPS)


@pytest.mark.parametrize("step", steps.MODULE_STEPS)
def test_check_mode_lists_the_actions_and_changes_nothing(lab, step):
    host, state = begun(lab)
    advance(host, state, *steps.STEP_NAMES[:steps.STEP_NAMES.index(step)])
    checking = FakeHost(Module(lab.params, check_mode=True))
    checking.lvs = list(host.lvs)
    if step in steps.STEP_NAMES[steps.STEP_NAMES.index("start"):]:
        # the new storage before the import and the re-creation
        checking.docker_cli.inspected.update(image=[], container=[])
    state_bytes, before = lab.state_file.read_bytes(), tree(lab.tmp)
    assert run.run_registered(checking, checking.load_state(), step, {}) == {"changed": True}
    assert checking.actions and all(
        sorted(a) == ["cmd", "why"] and a["cmd"] and a["why"] for a in checking.actions)
    assert checking.calls == [] and lab.state_file.read_bytes() == state_bytes
    assert tree(lab.tmp) == before


def test_move_mode_renames_the_root_aside_and_carries_the_volumes_back(lab):
    host, state = begun(lab)
    before, identity = files(lab.root), data_identity(lab)
    advance(host, state, "export", "prepare", "stop_containers", "stop", "backup")
    assert not os.path.exists(lab.root) and files(host.docker_backup) == before
    assert not os.path.exists(host.backup_manifest)     # hashed once Docker runs again (verify)
    after_backup = tree(lab.tmp)
    apply_plan(steps.plan_backup(host, state, {}))          # redone after a power cut
    assert tree(lab.tmp) == after_backup
    advance(host, state, "carry_volumes")
    assert data_identity(lab) == identity and sorted(os.listdir(lab.root)) == ["volumes"]
    assert sorted(files(os.path.join(lab.root, "volumes"))) == [
        "appdata", "appdata/_data", "appdata/_data/file", "metadata.db"]
    assert not os.path.exists(os.path.join(host.docker_backup, "volumes"))
    assert host.load_state().carried_volumes == {"appdata": identity}
    after_carry = tree(lab.tmp)
    apply_plan(steps.plan_carry_volumes(host, state, {}))
    assert tree(lab.tmp) == after_carry
    steps.write_backup_manifest(host, state)            # the first action of verify
    manifest = host.read_json(host.backup_manifest)
    assert "image/devicemapper/repositories.json" in manifest and manifest["link"].startswith("sym")
    assert not [p for p in manifest if p.startswith("volumes")]
    assert sorted(manifest) == sorted(
        p for p in before if not p.startswith("volumes") and not stat.S_ISDIR(
            os.lstat(os.path.join(host.docker_backup, p)).st_mode))


def test_archive_mode_archives_once_and_empties_all_but_the_volumes(lab):
    host, state = begun(lab, backup_mode="archive")
    identity = data_identity(lab)
    advance(host, state, "export", "prepare", "stop_containers", "stop")
    del host.calls[:]
    advance(host, state, "backup")
    assert host.calls == [["tar_create", host.docker_archive + ".part", lab.root, "volumes"]]
    assert sorted(os.listdir(lab.root)) == ["volumes"]
    archived = pathlib.Path(host.docker_archive).read_bytes()
    assert host.load_state().archive_sha256 == hashlib.sha256(archived).hexdigest()
    assert not [p for p in host.read_json(host.backup_manifest) if p.startswith("volumes")]
    after = tree(lab.tmp)
    apply_plan(steps.plan_backup(host, state, {}))
    assert tree(lab.tmp) == after and len(host.calls) == 1
    advance(host, state, "carry_volumes")
    assert host.load_state().carried_volumes == {"appdata": identity} == {
        "appdata": data_identity(lab)}


@pytest.mark.parametrize("below", [True, False])
def test_nothing_is_deleted_when_a_mount_is_in_the_way(lab, monkeypatch, below):
    """A mount below a tree that remove_on_one_device removes; or an entry of Docker's directory
    that is itself a mount point (its content is not in the --one-file-system archive)."""
    host, state = begun(lab, backup_mode="archive")
    mount = os.path.join(lab.root, "devicemapper", "mnt", "abc") if below else \
        os.path.join(lab.root, "image")
    os.makedirs(mount, exist_ok=True)
    before, real = tree(lab.tmp), os.lstat

    def lstat(path, *args, **kwargs):       # the mount's (and what is below it) st_dev differs
        info = real(path, *args, **kwargs)
        if str(path) == mount or str(path).startswith(mount + "/"):
            return os.stat_result(info[:2] + (info.st_dev + 1,) + info[3:10])
        return info
    monkeypatch.setattr(os, "lstat", lstat)
    with pytest.raises(ModuleError, match=re.escape(mount) + " is on another filesystem"):
        if below:
            mhost.remove_on_one_device(os.path.join(lab.root, "devicemapper"))
        else:
            steps.empty_but_volumes(host)
    monkeypatch.undo()
    assert tree(lab.tmp) == before


def test_preflight_refuses_an_xfs_without_d_type_for_overlay2(lab):
    for record in captured.load("xfs_ftype")["commands"]:      # mkfs.xfs prints what xfs_info does
        if record["command"].startswith(("mkfs.xfs", "xfs_info")):
            assert inventory.xfs_ftype(record["stdout"]) == int("ftype1" in record["command"])
    host = FakeHost(Module(dict(lab.params, target="overlay2")))
    host.fs, host.xfs_info = "xfs", XFS_INFO[0]
    before = tree(lab.tmp)
    with pytest.raises(ModuleError) as refused:
        checks.preflight(host)
    assert "ftype=0" in refused.value.msg and "(nothing was changed)" in refused.value.msg
    with pytest.raises(ModuleError, match="ftype=0"):
        checks.check_overlay2_filesystem(host, lab.root, "xfs")
    assert tree(lab.tmp) == before
    host.xfs_info = XFS_INFO[1]
    checked = checks.preflight(host)
    assert (checked["source"]["driver"], checked["source"]["pool_backend"]) == (
        "devicemapper", "loop") and len(checked["inventory"]["images"]) == 2
    assert tree(lab.tmp) == before


def test_run_module_says_which_step_an_os_error_stopped(lab, monkeypatch):
    host, state = begun(lab)
    advance(host, state, "export", "prepare", "stop_containers", "stop")
    monkeypatch.setattr(run, "MigrationHost", lambda module, order: FakeHost(module))

    def cross_device(host, state, result):
        raise OSError(errno.EXDEV, "Invalid cross-device link", "/x")
    monkeypatch.setitem(run.PLANNERS, "backup", cross_device)
    with pytest.raises(ModuleError) as failed:
        run.run_module(Module(dict(lab.params, step="backup")))
    assert failed.value.msg == "step backup: Invalid cross-device link (/x)"     # no traceback
    assert run.run_module(Module(dict(lab.params, step="status")))["plan"] == "resume"
