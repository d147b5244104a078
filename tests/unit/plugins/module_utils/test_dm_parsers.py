"""Parsers on outputs captured from a real kernel (tests/unit/fixtures, scripts/capture-fixtures).

Expected values come from how each state was set up (sizes, block size, transaction id), not
from copying the outputs."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import dm_parsers as p
from captured import output

MiB = 1 << 20


def status_of(state, name):
    lines = dict(p.split_dmsetup_lines(output(state, "dmsetup status")["stdout"]))
    return lines[name]


def table_of(state, name):
    lines = dict(p.split_dmsetup_lines(output(state, "dmsetup table")["stdout"]))
    return lines[name]


def test_no_devices_parse_to_nothing():
    for command in ("dmsetup status", "dmsetup table", "dmsetup ls"):
        assert p.split_dmsetup_lines(output("no_pool", command)["stdout"]) == []
    assert p.parse_dmsetup_ls(output("no_pool", "dmsetup ls")["stdout"]) == {}
    assert p.parse_dmsetup_info_columns(output("no_pool", "dmsetup info -c")["stdout"]) == {}
    assert p.parse_losetup_json(output("no_pool", "losetup --json")["stdout"]) == []
    for kind, command in (("pv", "pvs"), ("vg", "vgs"), ("lv", "lvs -a")):
        assert p.parse_lvm_report(output("no_pool", command)["stdout"], kind) == []
    record = output("no_pool", "blkid -p -o export /dev/ubdb")
    assert record["rc"] == 2 and p.parse_blkid_export(record["stdout"]) == {}


def test_loop_pool_table_has_the_runbook_parameters():
    table = p.parse_thin_pool_table(table_of("loop_pool_thins", "fx-pool"))
    assert table["length_sectors"] == 256 * MiB // 512
    assert table["block_sectors"] == 128
    assert table["low_water_mark"] == 32768
    assert table["features"] == ["skip_block_zeroing"]
    assert table["skip_block_zeroing"] and not table["error_if_no_space"]
    loops = {d["back-file"]: d["name"] for d in
             p.parse_losetup_json(output("loop_pool_thins", "losetup --json")["stdout"])}
    majors = p.parse_dmsetup_info_columns(output("loop_pool", "dmsetup info -c")["stdout"])
    assert set(loops) == {"/var/lib/fx/data", "/var/lib/fx/metadata"}
    assert majors["fx-pool"]["live"] and not majors["fx-pool"]["suspended"]
    # the table names the loop devices by major:minor, loop's major is 7
    assert table["data_dev"] == "7:%s" % loops["/var/lib/fx/data"][len("/dev/loop"):]
    assert table["metadata_dev"] == "7:%s" % loops["/var/lib/fx/metadata"][len("/dev/loop"):]


def test_loop_pool_status_with_thins_and_a_held_metadata_snapshot():
    status = p.ThinPoolStatus(status_of("loop_pool_thins", "fx-pool"), block_sectors=128)
    info = status.to_dict()
    assert info["transaction_id"] == 3                       # set_transaction_id 0 3
    assert info["data_total_blocks"] == 256 * MiB // (64 << 10)
    assert info["data_total_bytes"] == 256 * MiB
    assert info["metadata_total_bytes"] == 16 * MiB
    assert info["block_bytes"] == 64 << 10
    assert info["data_used_bytes"] >= 24 * MiB               # the payload written before the snap
    assert 0 < info["data_used_percent"] < 100
    assert info["held_metadata_root"] is not None            # reserve_metadata_snap
    assert info["mode"] == "rw" and not info["read_only"] and not info["out_of_data_space"]
    assert info["discard_passdown"] is True and info["error_if_no_space"] is False
    assert info["needs_check"] is False


def test_fresh_loop_pool_status():
    info = p.ThinPoolStatus(status_of("loop_pool", "fx-pool"), block_sectors=128).to_dict()
    assert info["transaction_id"] == 0 and info["data_used_blocks"] == 0
    assert info["held_metadata_root"] is None


def test_thin_devices_and_snapshot_share_the_origin_blocks():
    base = p.parse_thin_status(status_of("loop_pool_thins", "fx-base"))
    snap = p.parse_thin_status(status_of("loop_pool_thins", "fx-snap"))
    assert base["mapped_bytes"] >= 24 * MiB
    assert snap["mapped_sectors"] == base["mapped_sectors"]
    assert p.parse_thin_table(table_of("loop_pool_thins", "fx-base"))["device_id"] == 0
    snap_table = p.parse_thin_table(table_of("loop_pool_thins", "fx-snap"))
    assert snap_table["device_id"] == 1 and snap_table["length_sectors"] == 512 * MiB // 512
    rows = p.parse_thin_ls(output("loop_pool_thins", "thin_ls")["stdout"])
    assert [r["dev"] for r in rows] == [0, 1]
    assert rows[0]["mapped_bytes"] == rows[1]["mapped_bytes"] == rows[1]["shared_bytes"]
    blkid = p.parse_blkid_export(output("loop_pool_thins", "blkid -p -o export /dev/mapper/fx-base")
                                 ["stdout"])
    assert blkid["TYPE"] == "xfs" and len(blkid["UUID"]) == 36


@pytest.mark.parametrize("command,errno_text", [
    ("dmsetup message fx-pool 0 'create_thin 0'", "File exists"),
    ("dmsetup message fx-pool 0 'delete 7'", "No data available"),
    ("dmsetup message fx-pool 0 'create_snap 1 0'", "File exists"),
    ("dmsetup remove fx-pool", "Device or resource busy"),
])
def test_kernel_refusals_are_recorded_with_their_errno_text(command, errno_text):
    record = output("loop_pool_thins", command)
    assert record["rc"] != 0 and errno_text in record["stderr"]


def test_full_pool_with_error_if_no_space():
    table = p.parse_thin_pool_table(table_of("loop_pool_full", "fx-full"))
    assert table["features"] == ["skip_block_zeroing", "error_if_no_space"]
    info = p.ThinPoolStatus(status_of("loop_pool_full", "fx-full"), block_sectors=128).to_dict()
    assert info["out_of_data_space"] and info["mode"] == "out_of_data_space"
    assert info["data_used_blocks"] == info["data_total_blocks"] == 32 * MiB // (64 << 10)
    assert info["data_used_percent"] == 100.0
    assert info["error_if_no_space"] is True


def test_lvm_pool_as_the_runbook_makes_it():
    lvs = {r["lv_name"]: r for r in p.parse_lvm_report(output("lvm_pool", "lvs -a")["stdout"], "lv")}
    vg = p.parse_lvm_report(output("lvm_pool", "vgs")["stdout"], "vg")[0]
    pool = lvs["thinpool"]
    extent = p.lvm_int(vg["vg_extent_size"])
    assert pool["lv_attr"][0] == "t" and pool["lv_active"] == "active"
    assert p.lvm_int(pool["lv_size"]) == int(p.lvm_int(vg["vg_extent_count"]) * 95 // 100) * extent
    assert p.lvm_int(pool["chunk_size"]) == 512 << 10
    assert pool["zero"] == ""                      # lvconvert --zero n (LVM prints "zero" when on)
    assert pool["seg_monitor"] == "monitored" and pool["lv_profile"] == "docker-thinpool"
    assert lvs["snap1"]["origin"] == "base" and lvs["snap1"]["pool_lv"] == "thinpool"
    assert p.lvm_int(lvs["base"]["thin_id"]) == 1 and p.lvm_int(lvs["snap1"]["thin_id"]) == 2

    # LVM's own pool device: block size = chunk size, zeroing off
    table = p.parse_thin_pool_table(table_of("lvm_pool", "docker-thinpool-tpool"))
    assert table["block_sectors"] * 512 == 512 << 10 and table["skip_block_zeroing"]
    status = p.ThinPoolStatus(status_of("lvm_pool", "docker-thinpool-tpool"),
                              block_sectors=table["block_sectors"]).to_dict()
    assert status["data_total_bytes"] == p.lvm_int(pool["lv_size"])
    assert status["transaction_id"] == p.lvm_int(pool["transaction_id"])
    assert status["data_used_percent"] == pytest.approx(p.lvm_float(pool["data_percent"]), abs=0.01)
    assert status["metadata_used_percent"] == pytest.approx(p.lvm_float(pool["metadata_percent"]),
                                                            abs=0.01)
    # LVM asks for passdown, but the ubd disk below cannot discard, so the kernel turns it off:
    # the status line, not lvs, says what the pool really does.
    assert pool["discards"] == "passdown" and status["discard_passdown"] is False
    blkid = p.parse_blkid_export(output("lvm_pool", "blkid -p -o export /dev/ubdb")["stdout"])
    assert blkid["TYPE"] == "LVM2_member" and blkid["VERSION"] == "LVM2 001"


def test_inactive_lvm_pool_has_no_dm_devices_but_lvm_knows_it():
    assert p.parse_dmsetup_ls(output("lvm_pool_inactive", "dmsetup ls")["stdout"]) == {}
    lvs = {r["lv_name"]: r for r in
           p.parse_lvm_report(output("lvm_pool_inactive", "lvs -a")["stdout"], "lv")}
    assert lvs["thinpool"]["lv_active"] == "" and lvs["thinpool"]["lv_attr"][4] == "-"
    # activating the pool alone brings back the pool, not its thin volumes
    record = output("lvm_pool_inactive", "dmsetup status docker-thinpool-tpool")
    assert record["rc"] == 0
    assert p.ThinPoolStatus(record["stdout"].strip()).transaction_id == \
        p.lvm_int(lvs["thinpool"]["transaction_id"])


@pytest.mark.parametrize("line", [
    "0 100 linear 8:0 0", "0 100 thin-pool", "garbage",
])
def test_wrong_lines_raise_parse_error(line):
    with pytest.raises(p.ParseError):
        p.ThinPoolStatus(line)


def test_failed_pool_status():
    info = p.ThinPoolStatus("0 2048 thin-pool Fail").to_dict()
    assert info["failed"] and info["mode"] == "failed" and info["transaction_id"] is None


@pytest.mark.parametrize("release", ["bullseye", "bookworm", "trixie"])
def test_a_missing_vg_is_recognised_on_every_release(release):
    # lvm2 2.03.11 and 2.03.16 say "not found" on stderr; 2.03.31 only in the JSON report's log
    record = output("lvm_missing_" + release, "vgs")
    assert record["rc"] == 5
    assert p.lvm_not_found(record["stdout"], record["stderr"]) is True
    assert p.parse_lvm_report(record["stdout"], "vg") == []


def test_other_lvm_failures_are_not_taken_for_a_missing_vg():
    record = output("lvm_missing_trixie", "vgs")
    other = record["stdout"].replace("not found", "is exported")
    assert p.lvm_not_found(other, "  Volume group \"docker\" is exported\n") is False
    assert p.lvm_not_found("not json", "") is False
