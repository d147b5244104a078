"""containerd_config's merge, judged on what containerd itself read on guests (fixtures
containerd_bookworm/_trixie: containerd 1.6 and 1.7, their shipped config.toml, `containerd
config dump` of it, of it with the drop-in imported, and with devmapper as the CRI default
snapshotter too; scripts/lib/capture_containerd.py) and, for version 3, on containerd 2's own
default configuration from its repository (no Debian release here ships containerd 2)."""

import os
import re
import tomllib

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import containerd_config as cc
from ansible_collections.devmapper.storage.plugins.module_utils.host.containerd import (
    parse_major_version)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from captured import FIXTURES, load

RELEASES = ["bookworm", "trixie"]
SETTINGS = {"pool_name": "containerd-thinpool", "root_path": "/var/lib/containerd/devmapper",
            "base_image_size": "8GB", "async_remove": False, "discard_blocks": True,
            "fs_type": "ext4", "fs_options": None, "cri_default_snapshotter": False, "force": False,
            "path": "/etc/containerd/config.toml"}


def captured(release):
    """(shipped file, its dump, drop-in, main with import, its dump, main with CRI, its dump,
    the invalid file's record)."""
    c = load("containerd_" + release)["commands"]
    return [r["stdout"] for r in c[1:8]] + [c[8]]


@pytest.mark.parametrize("release", RELEASES)
def test_the_files_containerd_read_are_the_ones_the_module_writes(release):
    shipped, dump, dropin, main, dump_main, cri, dump_cri, bad = captured(release)
    assert cc.config_version(shipped) == 2
    assert cc.render_dropin(2, SETTINGS) == dropin
    assert cc.with_import(shipped, "/root/ctd/devmapper.toml") == main
    assert cc.with_cri_snapshotter(main, 2) == cri
    # idempotent: the path is imported once, the key set once
    assert cc.with_import(main, "/root/ctd/devmapper.toml") == main
    assert cc.with_cri_snapshotter(cri, 2) == cri


@pytest.mark.parametrize("release", RELEASES)
def test_containerd_s_reading_differs_only_where_the_module_writes(release):
    shipped, dump, dropin, main, dump_main, cri, dump_cri, bad = captured(release)
    current = {"version": 2, "dump": dump}
    cc.judge_candidate(current, SETTINGS, (True, dump_main))
    cc.judge_candidate(current, dict(SETTINGS, cri_default_snapshotter=True), (True, dump_cri))
    # the CRI key changed without being asked: another setting changed
    with pytest.raises(ModuleError, match=r'would change other settings of .*\(plugins\.'
                                          r'io\.containerd\.grpc\.v1\.cri\.containerd\)'):
        cc.judge_candidate(current, SETTINGS, (True, dump_cri))
    # a setting of another table (here the top level's oom_score) changed by the merge
    moved = dump_main.replace("oom_score = 0", "oom_score = 5")
    assert moved != dump_main
    with pytest.raises(ModuleError, match=r"\(\(top level\)\)"):
        cc.judge_candidate(current, SETTINGS, (True, moved))
    # containerd reads another pool than written (the table shadowed)
    with pytest.raises(ModuleError, match='reads pool_name of the devmapper snapshotter as "", '
                                          'not "containerd-thinpool"'):
        cc.judge_candidate(current, SETTINGS, (True, dump))
    # containerd cannot read the result: its own words, nothing changed
    with pytest.raises(ModuleError, match="unclosed table key"):
        cc.judge_candidate(current, SETTINGS, (False, bad["stderr"].strip()))
    assert bad["rc"] != 0


@pytest.mark.parametrize("release", RELEASES)
def test_the_release_s_containerd_version(release):
    assert parse_major_version(load("containerd_" + release)["commands"][0]["stdout"]) == 1
    assert parse_major_version("containerd github.com/containerd/containerd/v2 v2.0.2 "
                               "c507a0257ea6462fbd6f5ba4f5c74facb04021f4") == 2


def containerd2_default():
    with open(os.path.join(FIXTURES, "containerd2_default_config.toml")) as handle:
        return handle.read()


def test_version_3_on_containerd_2_s_own_default_config():
    text = containerd2_default()
    assert cc.config_version(text) == 3
    main = cc.with_cri_snapshotter(cc.with_import(text, "/etc/containerd/conf.d/dm.toml"), 3)
    before, after = tomllib.loads(text), tomllib.loads(main)
    images = after["plugins"]["io.containerd.cri.v1.images"]
    assert images["snapshotter"] == "devmapper" and after["imports"] == [
        "/etc/containerd/conf.d/dm.toml"]
    # the same TOML apart from what the module sets; the runtime's own snapshotter key stays
    images["snapshotter"] = "overlayfs"
    del after["imports"]
    assert after == before
    assert main.count("snapshotter = ") == 2 and "snapshotter = ''" in main
    dropin = tomllib.loads(cc.render_dropin(3, SETTINGS))
    assert dropin["version"] == 3
    assert dropin["plugins"]["io.containerd.snapshotter.v1.devmapper"] == dict(
        (k, v) for k, v in SETTINGS.items()
        if v is not None and k not in ("cri_default_snapshotter", "path", "force"))


def test_imports_kept_and_version_1_tables():
    text = containerd2_default().replace("version = 3\n", "version = 3\nimports = ['a.toml']\n")
    merged = tomllib.loads(cc.with_import(text, "/etc/x.toml"))
    assert merged["imports"] == ["a.toml", "/etc/x.toml"]
    assert cc.absolute_imports(text, "/etc/containerd").count("/etc/containerd/a.toml") == 1
    v1 = tomllib.loads(cc.with_cri_snapshotter("[plugins.cri.containerd]\n  x = 1\n", 1))
    assert v1 == {"plugins": {"cri": {"containerd": {"x": 1, "snapshotter": "devmapper"}}}}
    assert "[plugins.devmapper]" in cc.render_dropin(1, SETTINGS)
    assert "version" not in tomllib.loads(cc.render_dropin(1, SETTINGS))
    with pytest.raises(ModuleError, match="version = 7 is not"):
        cc.config_version("version = 7\n")


@pytest.mark.parametrize("release", RELEASES)
def test_where_containerd_keeps_the_snapshotter_s_state_and_which_pool_it_has(release):
    shipped, dump, dropin, main, dump_main, cri, dump_cri, bad = captured(release)
    assert cc.dump_value(dump, cc.SCHEMA[2]["devmapper"], "pool_name") == ""
    assert cc.snapshotter_root(dump, 2) == \
        "/var/lib/containerd/io.containerd.snapshotter.v1.devmapper"
    assert cc.dump_value(dump_main, cc.SCHEMA[2]["devmapper"], "pool_name") == \
        "containerd-thinpool"
    assert cc.snapshotter_root(dump_main, 2) == "/var/lib/containerd/devmapper"
    assert cc.snapshotter_root(dump_main, 2, "/srv/dm") == "/srv/dm"


def pool_state(**kw):
    state = {"configured_pool": "", "old_state": None, "new_state": False,
             "new_state_path": "/var/lib/containerd/devmapper/metadata.db", "pool_ids": []}
    state.update(kw)
    return state


@pytest.mark.parametrize("state,words", [
    (pool_state(pool_ids=[0, 1, 2]), "pool containerd-thinpool holds thin devices (ids 0, 1, 2)"),
    (pool_state(configured_pool="old-pool", old_state="/srv/old/metadata.db"),
     "keeps the state of pool old-pool in /srv/old/metadata.db"),
])
def test_a_pool_the_snapshotter_s_state_does_not_describe_needs_force(state, words):
    with pytest.raises(ModuleError, match=re.escape(words)):
        cc.judge_pool(state, SETTINGS)
    cc.judge_pool(state, dict(SETTINGS, force=True))


def test_the_pool_the_state_describes_and_a_new_empty_pool_need_no_force():
    cc.judge_pool(pool_state(), SETTINGS)
    cc.judge_pool(pool_state(pool_ids=[1, 2], new_state=True,
                             configured_pool="containerd-thinpool",
                             old_state="/var/lib/containerd/devmapper/metadata.db"), SETTINGS)
    # a configured pool whose state is gone: nothing to keep
    cc.judge_pool(pool_state(configured_pool="old-pool"), SETTINGS)
