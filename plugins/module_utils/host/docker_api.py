# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker's Engine API on its unix socket: the only place the collection speaks it.

Used by: docker_storage_migration, to re-create containers and networks from their own
``docker inspect`` (the API takes the inspected ``Config`` and ``HostConfig`` back as they are;
the command line would need every setting spelled out as a flag). Reads go through the command
line (host/docker.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket

from http.client import HTTPConnection
from urllib.parse import quote

from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError

DOCKER_SOCKET = "/var/run/docker.sock"


class UnixConnection(HTTPConnection):
    def __init__(self, path, timeout):
        HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class DockerApi(object):
    def __init__(self, path=DOCKER_SOCKET, timeout=120):
        self.path = path
        self.timeout = timeout

    def request(self, method, url, body=None):
        """(HTTP status, the answer's JSON or None)."""
        connection = UnixConnection(self.path, self.timeout)
        try:
            connection.request(method, url, body=None if body is None else json.dumps(body),
                               headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            data = answer.read()
        except (IOError, OSError) as exc:
            raise ModuleError("Docker's API (%s): %s %s failed: %s" % (self.path, method, url, exc))
        finally:
            connection.close()
        try:
            return answer.status, json.loads(data.decode("utf-8")) if data else None
        except ValueError:
            return answer.status, {"message": data.decode("utf-8", "replace")[:500]}

    def create(self, url, body, what):
        status, answer = self.request("POST", url, body)
        if status not in (200, 201):
            raise ModuleError("Docker refused to create %s (HTTP %d): %s"
                              % (what, status, (answer or {}).get("message")))
        return answer.get("Id") or answer.get("id")

    def create_container(self, name, body):
        """The new container's id."""
        return self.create("/containers/create?name=%s" % quote(name), body,
                           "container %s" % name)

    def create_network(self, body):
        return self.create("/networks/create", body, "network %s" % body["Name"])

    def connect_network(self, network, container, endpoint):
        """Connect ``container`` (an id) to ``network`` with ``endpoint``'s settings."""
        status, answer = self.request("POST", "/networks/%s/connect" % quote(network),
                                      {"Container": container, "EndpointConfig": endpoint})
        if status != 200:
            raise ModuleError("Docker refused to connect container %s to network %s (HTTP %d): %s"
                              % (container, network, status, (answer or {}).get("message")))
