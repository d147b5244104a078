"""Capture real `docker ... inspect` JSON for the migration unit tests, from a test host that ran
molecule/shared/migration_workload.yml (two images, one with two tags; volume appdata). Makes sure there are a stopped
container, a running one, an untagged image and a bind-style local volume first.

Usage: capture_migration.py LAB GUEST
Writes tests/unit/fixtures/migration.json: {command: {rc, stdout, stderr}}.
"""

import json
import os
import subprocess
import sys

LAB, GUEST = sys.argv[1], sys.argv[2]
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "unit", "fixtures",
                   "migration.json")


def sh(command):
    # testhost exec hands its words to the guest's shell, which parses the string once
    proc = subprocess.run(["testhost", "-l", LAB, "exec", GUEST, "--", command],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


sh("docker container inspect keeper >/dev/null 2>&1 || docker create --name keeper --network none "
   "-v appdata:/vol app:1 sh -c 'cat /etc/app-release'; docker container inspect runner >/dev/null 2>&1 "
   "|| docker run -d --name runner --network none busybox:local sleep 3600")
sh("docker image ls --filter dangling=true -q | grep -q . || docker commit keeper >/dev/null; "
   "mkdir -p /srv/bound; docker volume inspect bound >/dev/null 2>&1 || "
   "docker volume create --opt type=none --opt o=bind --opt device=/srv/bound bound >/dev/null")
COMMANDS = [
    "docker image inspect $(docker image ls --all --quiet --no-trunc | sort -u)",
    "docker volume inspect $(docker volume ls --quiet)",
    "docker container inspect $(docker container ls --all --quiet --no-trunc)",
    "docker info --format '{{json .}}'",
    "docker version --format '{{.Server.Version}}'",
]
captured = dict((c, sh(c)) for c in COMMANDS)
with open(OUT, "w") as handle:
    json.dump(captured, handle, indent=1, sort_keys=True)
print("wrote", os.path.normpath(OUT))
