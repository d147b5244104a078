"""Capture the outputs that differ between Debian releases, one fixture per release, from test
hosts of each release (testhost -g NAME%RELEASE).

Usage: capture_releases.py LAB GUEST:RELEASE [GUEST:RELEASE ...]
Writes tests/unit/fixtures/lvm_missing_RELEASE.json ({"commands": [{command, rc, stdout,
stderr}]}, as tests/unit/captured.py reads it): what LVM reports for a VG that does not exist.
"""

import json
import os
import subprocess
import sys

LAB = sys.argv[1]
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures")
VGS_MISSING = "vgs --reportformat json --units b --nosuffix -o vg_name,vg_size nosuchvg"


def sh(guest, command):
    proc = subprocess.run(["testhost", "-l", LAB, "exec", guest, "--", command],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr}


for spec in sys.argv[2:]:
    guest, release = spec.split(":")
    commands = [sh(guest, c) for c in (VGS_MISSING, "lvm version", "cat /etc/debian_version")]
    path = os.path.normpath(os.path.join(FIXTURES, "lvm_missing_%s.json" % release))
    with open(path, "w") as handle:
        json.dump({"release": release, "commands": commands}, handle, indent=1, sort_keys=True)
    print("wrote", path)
