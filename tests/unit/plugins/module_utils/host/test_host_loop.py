"""host/loop.py: losetup's command lines, and the loop devices it reads from output captured on a
real kernel (fixture loop_pool)."""

import os

from ansible_collections.devmapper.storage.plugins.module_utils.host import loop
from captured import output
from fake_host import CapturedModule


def test_associations_map_backing_files_to_loop_devices():
    module = CapturedModule(output("loop_pool", "losetup --json --list"))
    found = loop.LoopDevices(module).associations()
    assert module.calls == [["/sbin/losetup", "--json", "--list", "--output", "NAME,BACK-FILE"]]
    assert found == {os.path.realpath("/var/lib/fx/data"): "/dev/loop0",
                     os.path.realpath("/var/lib/fx/metadata"): "/dev/loop1"}


def test_actions_and_detach():
    module = CapturedModule({"rc": 0, "stdout": "", "stderr": ""})
    devices = loop.LoopDevices(module)
    assert [a.to_dict()["cmd"] for a in (devices.attach("/tmp/d", "a"),
                                         devices.set_capacity("/dev/loop3", "b"),
                                         devices.detach("/dev/loop3", "c"))] == [
        "/sbin/losetup --find --show /tmp/d", "/sbin/losetup --set-capacity /dev/loop3",
        "/sbin/losetup --detach /dev/loop3"]
    devices.detach_now("/dev/loop3")
    assert module.calls == [["/sbin/losetup", "--detach", "/dev/loop3"]]
