"""host/lvm.py: the lvs, vgs and pvs command lines it builds, and what it makes of their output
captured in guests (fixtures lvm_pool and volume_group)."""

import json
import os

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils.host import lvm
from ansible_collections.devmapper.storage.plugins.module_utils.runners import CommandError
from captured import FIXTURES, output
from fake_host import CapturedModule

REPORT = ["--reportformat", "json", "--units", "b", "--nosuffix"]
with open(os.path.join(FIXTURES, "volume_group.json")) as _handle:
    VG_STATES = json.load(_handle)
VGS = ("vgs --reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free,vg_extent_size,"
       "pv_count docker")
PVS = "pvs --reportformat json --units b --nosuffix -o pv_name,vg_name,pv_size"


def test_read_vg_asks_for_the_fields_given_and_answers_only_those():
    module = CapturedModule(VG_STATES["vg_two_pvs"][VGS])
    vg = lvm.LvmReports(module).read_vg("docker", "vg_name,vg_size,vg_free,vg_extent_size,pv_count")
    assert module.calls == [["/sbin/vgs"] + REPORT + ["-o", "vg_name,vg_size,vg_free,"
                                                      "vg_extent_size,pv_count", "docker"]]
    assert vg == {"name": "docker", "size": 2139095040, "free": 2139095040,
                  "extent_size": 4 << 20, "pv_count": 2}


def test_a_vg_that_is_not_there_is_none_and_exists_says_no():
    blank = VG_STATES["blank"][VGS]
    assert lvm.LvmReports(CapturedModule(blank)).read_vg("docker", "vg_name") is None
    assert lvm.LvmReports(CapturedModule(blank)).vg_exists("docker") is False
    module = CapturedModule(VG_STATES["vg_two_pvs"][VGS])
    assert lvm.LvmReports(module).vg_exists("docker") is True
    assert module.calls == [["/sbin/vgs"] + REPORT + ["-o", "vg_name", "docker"]]
    assert lvm.LvmReports(CapturedModule()).vg_exists(None) is False


def test_another_vgs_failure_is_an_error():
    failed = dict(VG_STATES["blank"][VGS], stderr="  Some other failure\n")
    with pytest.raises(CommandError):
        lvm.LvmReports(CapturedModule(failed)).read_vg("docker", "vg_name")


def test_pv_owners_and_pv_names():
    module = CapturedModule(VG_STATES["vg_one_pv_orphan_pv_xfs"][PVS])
    assert lvm.LvmReports(module).pv_owners() == {"/dev/ubdb": "docker", "/dev/ubdc": ""}
    assert module.calls == [["/sbin/pvs"] + REPORT + ["-o", "pv_name,vg_name,pv_size"]]
    # on a host whose every PV is in docker, the selection has every row
    module = CapturedModule(VG_STATES["vg_two_pvs"][PVS])
    names = lvm.LvmReports(module).pv_names("docker")
    assert module.calls == [["/sbin/pvs"] + REPORT + ["-o", "pv_name", "-S", "vg_name=docker"]]
    assert names == sorted(lvm.parse_pvs(VG_STATES["vg_two_pvs"][PVS]["stdout"]))


def test_lvs_of_one_pool_and_of_a_whole_vg():
    record = output("lvm_pool", "lvs --reportformat json --units b --nosuffix -o "
                                "lv_name,seg_monitor,lv_profile docker/thinpool")
    module = CapturedModule(record)
    rc, rows, dummy = lvm.LvmReports(module).lv_report("lv_name,seg_monitor,lv_profile",
                                                       ["docker/thinpool"], check=False)
    assert module.calls == [["/sbin/lvs"] + REPORT + ["-o", "lv_name,seg_monitor,lv_profile",
                                                      "docker/thinpool"]]
    assert rc == 0 and rows == [{"lv_name": "thinpool", "seg_monitor": "monitored",
                                 "lv_profile": "docker-thinpool"}]
    module = CapturedModule(output("lvm_pool", "lvs -a --reportformat json"))
    rows = lvm.LvmReports(module).lv_report("lv_name", ["docker"], all_lvs=True)[1]
    assert module.calls[0][:2] == ["/sbin/lvs", "-a"]
    assert "thinpool" in [row["lv_name"] for row in rows]
