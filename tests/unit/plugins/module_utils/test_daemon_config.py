"""docker_daemon_config (module_utils/daemon_config.py and the module's run) on real files in a
temporary directory: the file's own keys kept in place, written only when the merged object
differs, a backup of the old file, check mode and diff, refusals that touch nothing; and
WriteFileAction's flush to disk before and after the rename."""

import json
import os
import stat

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import daemon_config as d
from ansible_collections.devmapper.storage.plugins.module_utils import runners
from ansible_collections.devmapper.storage.plugins.modules import docker_daemon_config

STORAGE = {"storage-driver": "devicemapper",
           "storage-opts": ["dm.thinpooldev=/dev/mapper/docker-thinpool",
                            "dm.use_deferred_removal=true"]}


class ConfigModule(object):
    def __init__(self, path, settings, check_mode=False, diff=False, backup=True, mode="0644"):
        self.params = {"path": str(path), "settings": settings, "backup": backup, "mode": mode}
        self.check_mode = check_mode
        self._diff = diff
        self.backups = []

    def atomic_move(self, src, dest):
        """As AnsibleModule.atomic_move leaves modes: the old file's, or the umask's default."""
        mode = stat.S_IMODE(os.stat(dest).st_mode) if os.path.exists(dest) else 0o644
        os.rename(src, dest)
        os.chmod(dest, mode)

    def backup_local(self, path):
        backup = "%s.%d.backup~" % (path, len(self.backups))
        with open(path, "rb") as old, open(backup, "wb") as new:
            new.write(old.read())
        self.backups.append(backup)
        return backup


def run(path, settings=None, **kw):
    return docker_daemon_config.run_module(ConfigModule(path, STORAGE if settings is None
                                                        else settings, **kw))


def test_a_missing_file_and_its_directory_are_written_then_left_alone(tmp_path):
    path = tmp_path / "docker" / "daemon.json"
    first = run(path)
    assert first["changed"] and "backup_file" not in first
    assert [a["cmd"] for a in first["actions"]] == ["write %s" % path]
    assert json.loads(path.read_text()) == STORAGE and first["config"] == STORAGE
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    again = run(path)
    assert again == {"changed": False, "actions": [], "config": STORAGE}


def test_the_files_own_keys_stay_in_their_place_and_the_old_file_is_kept(tmp_path):
    path = tmp_path / "daemon.json"
    old = '{"log-level": "warn", "storage-driver": "overlay2",\n "iptables": false}\n'
    path.write_text(old)
    result = run(path, diff=True)
    assert result["changed"]
    assert [a["why"] for a in result["actions"]] == [
        "keep the file as it was", "%s: storage-driver, storage-opts differ" % path]
    written = json.loads(path.read_text())
    assert list(written) == ["log-level", "storage-driver", "iptables", "storage-opts"]
    assert written["log-level"] == "warn" and written["iptables"] is False
    assert written["storage-driver"] == "devicemapper"
    assert open(result["backup_file"]).read() == old
    assert result["diff"]["before"] == d.render(json.loads(old))
    assert result["diff"]["after"] == path.read_text()


def test_a_file_laid_out_by_hand_is_not_rewritten_for_its_layout(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps(dict(STORAGE, debug=True)))     # one line, no newline
    inode = os.stat(str(path)).st_ino
    assert run(path)["changed"] is False
    assert os.stat(str(path)).st_ino == inode


def test_check_mode_says_what_it_would_write_and_writes_nothing(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text('{"debug": true}')
    result = run(path, check_mode=True, diff=True)
    assert result["changed"] and result["config"] == dict({"debug": True}, **STORAGE)
    assert json.loads(result["diff"]["after"]) == result["config"]
    assert path.read_text() == '{"debug": true}'
    assert os.listdir(str(tmp_path)) == ["daemon.json"]


def test_an_empty_file_counts_as_an_empty_object(tmp_path):
    path = tmp_path / "daemon.json"
    path.write_text("\n")
    assert run(path, backup=False)["changed"]
    assert json.loads(path.read_text()) == STORAGE


@pytest.mark.parametrize("content,message", [
    (b'{"log-level": ', "cannot be merged: it is not a JSON object (Expecting value"),
    (b'["storage-driver"]', "cannot be merged: it is not a JSON object (it holds a list)"),
    (b'{"a": "\xff"}', "cannot be merged: it is not a JSON object ("),
])
def test_a_file_that_is_not_a_json_object_is_refused_and_left_alone(tmp_path, content, message):
    path = tmp_path / "daemon.json"
    path.write_bytes(content)
    with pytest.raises(runners.ModuleError) as refused:
        run(path)
    assert str(refused.value).startswith("path: %s %s" % (path, message)), refused.value
    assert "nothing was changed" in str(refused.value)
    assert path.read_bytes() == content and os.listdir(str(tmp_path)) == ["daemon.json"]


@pytest.mark.parametrize("params,message", [
    ({"path": "docker/daemon.json"}, "path: must be the absolute path of a file"),
    ({"settings": ["storage-driver"]}, "settings: must be a dictionary"),
    ({"mode": "rw-r--r--"}, "mode: 'rw-r--r--' is not an octal mode"),
])
def test_bad_parameters_are_refused_by_name(tmp_path, params, message):
    module = ConfigModule(tmp_path / "daemon.json", STORAGE)
    module.params.update(params)
    with pytest.raises(runners.ModuleError, match=message):
        docker_daemon_config.run_module(module)
    assert os.listdir(str(tmp_path)) == []


def test_a_link_in_place_of_the_file_is_refused(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    (tmp_path / "daemon.json").symlink_to(target)
    with pytest.raises(runners.ModuleError, match="is not a regular file"):
        run(tmp_path / "daemon.json")
    assert target.read_text() == "{}"


def test_a_written_file_reaches_the_disk_before_and_after_its_rename(tmp_path, monkeypatch):
    """Without the fsync before the rename, a power cut can leave daemon.json renamed but empty
    (ext4 and XFS order neither), and dockerd then fails to start."""
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.readlink("/proc/self/fd/%d" % fd))
        real_fsync(fd)
    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "daemon.json"
    run(path, backup=False)
    assert len(synced) == 2
    assert os.path.dirname(synced[0]) == str(tmp_path) and synced[0] != str(path)
    assert synced[1] == str(tmp_path)
