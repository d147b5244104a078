"""host/dm.py: the dmsetup command lines it builds, and what it makes of their output
captured on a real kernel (fixtures loop_pool and loop_pool_thins)."""

import pytest

from ansible_collections.devmapper.storage.plugins.module_utils.host import dm
from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    CommandError,
    ModuleError,
    apply_plan,
)
from captured import output
from fake_host import CapturedModule


DEVNO = "dmsetup info -c --noheadings -o major,minor fx-pool"


def test_an_existing_pool_read_in_three_commands():
    module = CapturedModule(output("loop_pool", DEVNO),
                            output("loop_pool", "dmsetup table fx-pool"),
                            output("loop_pool", "dmsetup status fx-pool"))
    pool = dm.DeviceMapper(module).read_thin_pool("fx-pool")
    assert module.calls == [["/sbin/dmsetup"] + DEVNO.split()[1:],
                            ["/sbin/dmsetup", "table", "fx-pool"],
                            ["/sbin/dmsetup", "status", "fx-pool"]]
    table, status = pool["table"], pool["status"]
    assert (table["block_sectors"], table["data_dev"], table["metadata_dev"]) == (128, "7:0", "7:1")
    assert status.mode == "rw" and status.block_sectors == 128
    assert pool["devno"] == "254:0"


def test_a_missing_device_is_none():
    module = CapturedModule(output("no_pool", DEVNO))
    assert dm.DeviceMapper(module).read_thin_pool("fx-pool") is None
    assert len(module.calls) == 1
    assert dm.DeviceMapper(CapturedModule(output("no_pool", DEVNO))).exists("fx-pool") is False
    assert dm.DeviceMapper(CapturedModule(output("loop_pool", DEVNO))).exists("fx-pool") is True


def test_thin_ids_are_read_from_the_device_with_no_command(tmp_path):
    """No message to the pool and no thin_ls (which needs a metadata snapshot on a live pool):
    the ids come from the device's blocks (test_thin_metadata.py parses captured ones); a device
    without thin-pool metadata is an error that names it."""
    path = tmp_path / "meta"
    path.write_bytes(bytes(8192))
    module = CapturedModule()
    with pytest.raises(ModuleError, match="cannot list the thin ids in the pool's metadata "
                                          "\\(%s\\): block 0 holds no valid" % path):
        dm.DeviceMapper(module).thin_ids_in_metadata(str(path))
    assert module.calls == []


def test_actions_carry_the_dmsetup_command_lines():
    mapper = dm.DeviceMapper(CapturedModule())
    table = dm.thin_table(2048, "fx-pool", 5)
    assert table == "0 2048 thin /dev/mapper/fx-pool 5"
    steps = [mapper.create("fx-new", table, "a"), mapper.remove("fx-new", "b"),
             mapper.suspend("fx-base", "c"), mapper.resume("fx-base", "d"),
             mapper.message("fx-pool", "create_thin 5", 5, "e")]
    steps += mapper.reload_steps("fx-base", table, ("f", "g", "h"))
    assert [s.to_dict() for s in steps] == [
        {"cmd": "/sbin/dmsetup create fx-new --table " + table, "why": "a"},
        {"cmd": "/sbin/dmsetup remove fx-new", "why": "b"},
        {"cmd": "/sbin/dmsetup suspend fx-base", "why": "c"},
        {"cmd": "/sbin/dmsetup resume fx-base", "why": "d"},
        {"cmd": "/sbin/dmsetup message fx-pool 0 create_thin 5", "why": "e"},
        {"cmd": "/sbin/dmsetup suspend fx-base", "why": "f"},
        {"cmd": "/sbin/dmsetup reload fx-base --table " + table, "why": "g"},
        {"cmd": "/sbin/dmsetup resume fx-base", "why": "h"}]


def test_a_refused_pool_message_says_what_the_kernel_meant():
    module = CapturedModule(output("loop_pool_thins",
                                   "dmsetup message fx-pool 0 'create_thin 0'"))
    step = dm.DeviceMapper(module).message("fx-pool", "create_thin 0", 0, "create thin id 0")
    with pytest.raises(CommandError) as refused:
        apply_plan([step])
    # exit_module reports exc.msg
    assert refused.value.msg.startswith("thin id 0 already exists in pool fx-pool (")
