"""Capture containerd's own reading (`containerd config dump`) of its configuration on test hosts:
the release's shipped config.toml; the same with the devmapper table imported from a drop-in, and
with devmapper as the CRI default snapshotter too, both written by module_utils/containerd_config
(so the unit tests judge plans against what containerd really reads); a file that is not TOML.

Usage: capture_containerd.py LAB GUEST:RELEASE [GUEST:RELEASE ...]
Writes tests/unit/fixtures/containerd_RELEASE.json ({"commands": [...]}, as tests/unit/captured.py
reads them). Everything is made under /root/ctd and removed again."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path[:0] = [os.path.join(ROOT, ".build")]

from testhost import lab as lab_mod  # noqa: E402
from ansible_collections.devmapper.storage.plugins.module_utils import (  # noqa: E402
    containerd_config as cc)

LAB = lab_mod.Lab(sys.argv[1])
FIXTURES = os.path.join(ROOT, "tests", "unit", "fixtures")
SETTINGS = {"pool_name": "containerd-thinpool", "root_path": "/var/lib/containerd/devmapper",
            "base_image_size": "8GB", "async_remove": False, "discard_blocks": True,
            "fs_type": "ext4", "fs_options": None}


def sh(guest, command, stdin=None):
    proc = LAB.run(LAB.guest(guest), command, timeout=300, input_text=stdin)
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


def must(guest, command, stdin=None):
    record = sh(guest, command, stdin)
    if record["rc"] != 0:
        raise SystemExit("%s: %s failed: %s" % (guest, command, record["stderr"]))
    return record


def capture(guest, release):
    commands = [must(guest, "containerd --version"), must(guest, "cat /etc/containerd/config.toml")]
    shipped = commands[-1]["stdout"]
    version = cc.config_version(shipped)
    commands.append(must(guest, "containerd --config /etc/containerd/config.toml config dump"))
    dropin = "/root/ctd/devmapper.toml"
    main = cc.with_import(shipped, dropin)
    with_cri = cc.with_cri_snapshotter(main, version)
    must(guest, "mkdir -p /root/ctd && cat > %s" % dropin, cc.render_dropin(version, SETTINGS))
    must(guest, "cat > /root/ctd/config.toml", main)
    must(guest, "cat > /root/ctd/cri.toml", with_cri)
    commands.append(must(guest, "cat %s" % dropin))
    commands.append(must(guest, "cat /root/ctd/config.toml"))
    commands.append(must(guest, "containerd --config /root/ctd/config.toml config dump"))
    commands.append(must(guest, "cat /root/ctd/cri.toml"))
    commands.append(must(guest, "containerd --config /root/ctd/cri.toml config dump"))
    must(guest, "printf 'version = 2\\n[plugins\\n' > /root/ctd/bad.toml")
    commands.append(sh(guest, "containerd --config /root/ctd/bad.toml config dump"))
    must(guest, "rm -rf /root/ctd")
    path = os.path.join(FIXTURES, "containerd_%s.json" % release)
    with open(path, "w") as handle:
        json.dump({"commands": commands}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("%s: %d commands" % (path, len(commands)))


if __name__ == "__main__":
    for spec in sys.argv[2:]:
        capture(*spec.split(":"))
