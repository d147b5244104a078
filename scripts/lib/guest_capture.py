"""What the capture scripts share: a command run on a lab guest as written (testhost exec would
split and join it again), recorded as {command, rc, stdout, stderr}, and the fixture file
({"commands": [...], "versions": [...]}, as tests/unit/captured.py reads it)."""

import json
import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "unit",
                        "fixtures")


class GuestCapture(object):
    def __init__(self, lab, guest):
        self.lab = lab
        self.guest = guest

    def sh(self, command, timeout=300):
        proc = self.lab.run(self.guest, command, timeout=timeout)
        return {"command": command, "rc": proc.returncode, "stdout": proc.stdout,
                "stderr": proc.stderr}

    def must(self, command, timeout=300):
        record = self.sh(command, timeout)
        if record["rc"] != 0:
            raise SystemExit("%s failed (rc %d): %s%s"
                             % (command, record["rc"], record["stdout"], record["stderr"]))
        return record


def write_fixture(name, records, versions):
    path = os.path.normpath(os.path.join(FIXTURES, name + ".json"))
    with open(path, "w") as handle:
        json.dump({"commands": records, "versions": versions}, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print("wrote", path)
