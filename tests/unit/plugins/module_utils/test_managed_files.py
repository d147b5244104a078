"""managed_files (module_utils/managed_files.py and the module's run) on real files in a
temporary directory: written when missing or different, left alone when the same, mode-only
differences, check mode writes nothing, refusals name the entry and touch nothing."""

import os
import stat

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import managed_files as m
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from ansible_collections.devmapper.storage.plugins.modules import managed_files


class FilesModule(object):
    def __init__(self, files, check_mode=False, diff=False):
        self.params = {"files": files}
        self.check_mode = check_mode
        self._diff = diff

    def atomic_move(self, src, dest):
        """As AnsibleModule.atomic_move leaves modes: the old file's, or for a new file the
        umask's default (0644 here), whatever the moved file had."""
        mode = stat.S_IMODE(os.stat(dest).st_mode) if os.path.exists(dest) else 0o644
        os.rename(src, dest)
        os.chmod(dest, mode)


def run(files, **kw):
    return managed_files.run_module(FilesModule(files, **kw))


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_missing_files_and_their_directories_are_written_then_left_alone(tmp_path):
    conf, script = tmp_path / "etc" / "pools" / "p.conf", tmp_path / "sbin" / "activate"
    files = [{"path": str(conf), "content": "A=1\n", "mode": "0644"},
             {"path": str(script), "content": "#!/bin/sh\n", "mode": "0755"}]
    first = run(files)
    assert first["changed"] and first["written"] == [str(conf), str(script)]
    assert conf.read_text() == "A=1\n" and mode_of(conf) == 0o644
    assert script.read_text() == "#!/bin/sh\n" and mode_of(script) == 0o755
    assert mode_of(conf.parent) == 0o755
    again = run(files)
    assert again == {"changed": False, "actions": [], "written": []}


def test_only_the_file_that_differs_is_written_and_a_mode_alone_counts(tmp_path):
    same, other, loose = tmp_path / "same", tmp_path / "other", tmp_path / "loose"
    for path in (same, other, loose):
        path.write_text("x\n")
        os.chmod(str(path), 0o644)
    os.chmod(str(loose), 0o666)
    inode = os.stat(str(same)).st_ino
    result = run([{"path": str(same), "content": "x\n", "mode": "0644"},
                  {"path": str(other), "content": "y\n", "mode": "0644"},
                  {"path": str(loose), "content": "x\n", "mode": "0644"}], diff=True)
    assert result["written"] == [str(other), str(loose)]
    assert [a["why"] for a in result["actions"]] == [
        "%s has other content" % other, "%s has mode 0666, wanted 0644" % loose]
    assert os.stat(str(same)).st_ino == inode
    assert other.read_text() == "y\n" and mode_of(loose) == 0o644
    assert result["diff"][0] == {"before_header": str(other), "after_header": str(other),
                                 "before": "# mode 0644\nx\n", "after": "# mode 0644\ny\n"}


def test_check_mode_says_what_it_would_write_and_writes_nothing(tmp_path):
    target = tmp_path / "d" / "f"
    result = run([{"path": str(target), "content": "z\n", "mode": "0600"}], check_mode=True,
                 diff=True)
    assert result["changed"] and result["written"] == [str(target)]
    assert result["diff"][0]["before"] == "" and result["diff"][0]["after"] == "# mode 0600\nz\n"
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("entry,message", [
    ({"path": "relative/f", "content": "", "mode": "0644"}, "files[0].path: 'relative/f'"),
    ({"path": "/etc/x", "content": "", "mode": "rw-r--r--"}, "files[0].mode: 'rw-r--r--'"),
    ({"path": "/etc/x", "content": "", "mode": "01777777"}, "files[0].mode"),
])
def test_bad_entries_are_refused_by_name(entry, message):
    with pytest.raises(ModuleError) as refused:
        m.check_params({"files": [entry]})
    assert refused.value.msg.startswith(message), refused.value.msg


def test_a_path_given_twice_is_refused():
    with pytest.raises(ModuleError) as refused:
        m.check_params({"files": [{"path": "/etc/a", "content": "", "mode": "0644"},
                                  {"path": "/etc//a", "content": "", "mode": "0644"}]})
    assert refused.value.msg == "files[1].path: /etc//a is given twice"


def test_a_directory_or_a_link_in_the_way_is_refused_and_left(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "real").write_text("r\n")
    os.symlink(str(tmp_path / "real"), str(tmp_path / "link"))
    for name in ("dir", "link"):
        with pytest.raises(ModuleError) as refused:
            run([{"path": str(tmp_path / name), "content": "n\n", "mode": "0644"}])
        assert "is not a regular file" in refused.value.msg
    assert (tmp_path / "real").read_text() == "r\n" and (tmp_path / "dir").is_dir()


def test_a_file_that_is_not_utf8_is_written_again(tmp_path):
    edited = tmp_path / "edited"
    edited.write_bytes(b"A=\xff\n")
    result = run([{"path": str(edited), "content": "A=1\n", "mode": "0644"}])
    assert result["written"] == [str(edited)] and edited.read_text() == "A=1\n"
