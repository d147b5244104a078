# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker's command-line client: the only place its command lines are built.

``info`` is the one reader of ``docker info``; ``storage_of`` and ``pool_name`` are what the
collection needs of its answer; ``installed`` looks for the daemon (dockerd). Used by: converged
(the fast path's driver and pool), docker_engine (docker_engine_info: installed, docker info, the
wait for a driver and pool), docker_storage_migration (the source storage, exporting and importing
images, stopping containers and committing their writable layers) and docker_container_filesystems (the containers, and restarting
those whose filesystem stopped answering).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    Action,
    ModuleError,
    ToolRunner,
)

DOCKER = "docker"
DOCKERD = "dockerd"
# what the inventory lists and inspects, per kind: (listing, inspect)
LISTINGS = {
    "image": (["image", "ls", "--all", "--quiet", "--no-trunc"], ["image", "inspect"]),
    "volume": (["volume", "ls", "--quiet"], ["volume", "inspect"]),
    "container": (["container", "ls", "--all", "--quiet", "--no-trunc"], ["container", "inspect"]),
    "network": (["network", "ls", "--quiet", "--no-trunc"], ["network", "inspect"]),
}


def parse_daemon_version(text):
    """The version in ``dockerd --version`` (``Docker version 26.1.5+dfsg1, build a72d7cd``);
    None when it says something else."""
    match = re.search(r"[Vv]ersion (\S+?),", text or "")
    return match.group(1) if match else None


def pool_name(info):
    """The devicemapper pool named in ``docker info`` JSON (None for another driver)."""
    status = dict((row[0], row[1]) for row in (info.get("DriverStatus") or []) if len(row) == 2)
    return status.get("Pool Name")


def storage_of(info):
    """{driver, pool} from ``docker info --format '{{json .}}'`` JSON; None when the client
    answered alone (it prints its own half of the JSON, without a driver, when no daemon runs)."""
    if not info.get("Driver"):
        return None
    return {"driver": info.get("Driver"), "pool": pool_name(info)}


class DockerCli(object):
    def __init__(self, module):
        self.module = module
        self.docker = ToolRunner(module, DOCKER)

    def installed(self):
        """Whether Docker's daemon (dockerd) is on the host."""
        return self.module.get_bin_path(DOCKERD) is not None

    def daemon_version(self):
        """dockerd's version from ``dockerd --version`` (which starts no daemon), or None."""
        if self.module.get_bin_path(DOCKERD) is None:
            return None
        rc, out, dummy = ToolRunner(self.module, DOCKERD).run(["--version"], check=False)
        return parse_daemon_version(out) if rc == 0 else None

    def info(self):
        """``docker info`` as JSON, or None when it fails or prints something else, or when the
        host has the daemon without the client (trixie's docker.io without docker-cli)."""
        if self.module.get_bin_path(DOCKER) is None:
            return None
        rc, out, dummy = self.docker.run(["info", "--format", "{{json .}}"], check=False)
        if rc != 0:
            return None
        try:
            return json.loads(out)
        except ValueError:
            return None

    def inspect_all(self, kind):
        """``docker KIND inspect`` of every image, volume or container, as JSON."""
        listing, inspect = LISTINGS[kind]
        dummy, out, dummy = self.docker.run(listing)
        ids = sorted(set(out.split()))
        if not ids:
            return []
        # Under heavy load a docker client has been seen to exit 0 with nothing on stdout; one
        # more try, then a failure that says which command it was.
        for attempt in (1, 2):
            dummy, out, err = self.docker.run(inspect + ids)
            try:
                return json.loads(out)
            except ValueError:
                if attempt == 2:
                    raise ModuleError("docker %s gave no JSON (stdout %r, stderr %r)"
                                      % (" ".join(inspect), out[:200], err[:200]))
                time.sleep(2)

    def stop(self, container, stop_seconds, why):
        """The Action that stops a container, killing it after ``stop_seconds``."""
        return Action(self.docker, ["stop", "--time", stop_seconds, container], why)

    def start(self, container, why):
        return Action(self.docker, ["start", container], why)

    def save(self, output, tags):
        self.docker.run(["save", "--output", output] + list(tags))

    def load(self, path):
        self.docker.run(["load", "--input", path])

    def inspect(self, kind, names):
        """``docker KIND inspect NAME...`` as JSON ([] for no names)."""
        if not names:
            return []
        dummy, out, dummy = self.docker.run([kind, "inspect"] + list(names))
        return json.loads(out)

    def remove_images(self, images):
        """``docker image rm`` of ``images``; one still used by a container stays (no error)."""
        self.docker.run(["image", "rm"] + list(images), check=False)

    def diff(self, container):
        """``docker diff``: the changes of a container's writable layer, one per line."""
        dummy, out, dummy = self.docker.run(["diff", container])
        return out

    def commit(self, container, image, why):
        """The Action that commits a (stopped) container's writable layer as ``image``."""
        return Action(self.docker, ["commit", "--pause=false", container, image], why)

    def volume_exists(self, name):
        rc, dummy, dummy = self.docker.run(["volume", "inspect", name], check=False)
        return rc == 0

    def volume_create(self, name, driver, labels, options):
        args = ["volume", "create", "--driver", driver]
        for key, value in sorted(labels.items()):
            args += ["--label", "%s=%s" % (key, value)]
        for key, value in sorted(options.items()):
            args += ["--opt", "%s=%s" % (key, value)]
        self.docker.run(args + [name])

    def volume_mountpoint(self, name):
        dummy, out, dummy = self.docker.run(["volume", "inspect", "--format", "{{.Mountpoint}}",
                                             name])
        return out.strip()
