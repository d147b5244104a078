"""containers.py's pure functions, and the client of Docker's API, on the real outputs of
tests/unit/fixtures/migration_containers.json (see test_migration_containers.py, whose captures
these are): what is uncarriable, a layer's own changes, the bodies of the API's create calls,
the creation order and the comparison verify makes."""

import copy
import http.server
import json
import socketserver
import threading

import pytest

import captured
from ansible_collections.devmapper.storage.plugins.module_utils.host.docker_api import DockerApi
from ansible_collections.devmapper.storage.plugins.module_utils.migration import containers
from ansible_collections.devmapper.storage.plugins.module_utils.migration.containers import (
    name_of)
from ansible_collections.devmapper.storage.plugins.module_utils.runners import ModuleError
from test_migration_containers import (
    APPNET, CAPTURE, DIFFS, JOINED, LAYER, LAYERED, WEB, on_two_networks)


# -- containers.py, pure --------------------------------------------------------------------------

def test_only_a_container_that_names_another_by_id_is_uncarriable():
    assert containers.uncarriable(WEB) == containers.uncarriable(LAYERED) == []
    assert containers.uncarriable(JOINED) == [
        "HostConfig.NetworkMode=container:%s (names another container by its id, which changes)"
        % WEB["Id"]]


def test_the_layer_changes_are_the_diff_without_the_mount_points():
    changes = containers.layer_changes(LAYERED, DIFFS["layered"])
    assert set(["A /added", "C /etc/modified", "D /etc/deleted", "A /link", "A /secret"]) <= \
        set(changes) and len(changes) == len(DIFFS["layered"].splitlines())
    # web's diff is only the mount points Docker made for its volume and its bind
    assert DIFFS["web"].splitlines() == ["A /data", "A /bound"]
    assert containers.layer_changes(WEB, DIFFS["web"]) == []
    assert containers.layer_image(LAYERED, 1) == LAYER
    assert containers.layer_image(LAYERED, 2) == LAYER[:-1] + "2"


def test_create_body_is_the_inspect_on_the_new_image_without_the_old_short_id():
    body = containers.create_body(WEB, "cap:1-new")
    config = dict((k, v) for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig"))
    assert config == dict(WEB["Config"], Image="cap:1-new") and WEB["Config"]["Image"] == "cap:1"
    assert body["HostConfig"] == WEB["HostConfig"]
    assert WEB["Id"][:12] in WEB["NetworkSettings"]["Networks"]["appnet"]["Aliases"]
    assert list(body["NetworkingConfig"]["EndpointsConfig"]) == ["appnet"]
    assert body["NetworkingConfig"]["EndpointsConfig"]["appnet"]["Aliases"] == ["www", "webhost"]
    assert containers.create_body(LAYERED, LAYER)["NetworkingConfig"]["EndpointsConfig"] == {
        "none": {"Aliases": None, "IPAMConfig": None, "Links": None, "DriverOpts": None}}
    net = containers.network_body(APPNET)
    assert (net["Name"], net["Driver"], net["Labels"], net["Internal"]) == (
        "appnet", "bridge", {"purpose": "capture"}, False)
    assert net["IPAM"] == {"Driver": "default", "Config": [{"Subnet": "172.30.0.0/16"}],
                           "Options": {}}
    assert containers.user_networks([WEB, LAYERED, JOINED]) == ["appnet"]


def test_a_container_on_two_networks_is_created_on_its_own_and_connected_to_the_other():
    version = captured.load(CAPTURE)["versions"][1]
    assert version["command"].startswith("docker version") and \
        version["stdout"].split() == ["20.10.24+dfsg1", "1.41"]       # dockerd before API 1.44
    two = on_two_networks(WEB)
    body = containers.create_body(two, "cap:1")
    assert body["NetworkingConfig"] == containers.create_body(WEB, "cap:1")["NetworkingConfig"]
    assert containers.other_endpoints(two) == {"backnet": dict(
        body["NetworkingConfig"]["EndpointsConfig"]["appnet"], Aliases=["back"])}
    assert containers.other_endpoints(WEB) == containers.other_endpoints(LAYERED) == {}


def test_docker_api_creates_then_connects_over_the_socket(tmp_path):
    """host/docker_api.py against a stand-in dockerd on a unix socket in tmp_path."""
    seen, answers = [], [(201, {"Id": "c" * 64, "Warnings": []}), (200, None),
                         (404, {"message": "network backnet not found"})]

    class Dockerd(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, json.loads(body)))
            status, answer = answers.pop(0)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(json.dumps(answer).encode() if answer else b"")

        def log_message(self, *args):       # a unix socket's peer has no address to log
            pass

    server = socketserver.UnixStreamServer(str(tmp_path / "docker.sock"), Dockerd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api, two = DockerApi(str(tmp_path / "docker.sock"), timeout=10), on_two_networks(WEB)
        assert api.create_container("web", containers.create_body(two, "cap:1")) == "c" * 64
        endpoint = containers.other_endpoints(two)["backnet"]
        api.connect_network("backnet", "c" * 64, endpoint)
        with pytest.raises(ModuleError, match="connect container c+ to network backnet "
                                              "\\(HTTP 404\\): network backnet not found"):
            api.connect_network("backnet", "c" * 64, endpoint)
    finally:
        server.shutdown()
        server.server_close()
    assert [path for path, body in seen] == ["/containers/create?name=web"] + [
        "/networks/backnet/connect"] * 2
    assert seen[1][1] == {"Container": "c" * 64, "EndpointConfig": endpoint}
    assert list(seen[0][1]["NetworkingConfig"]["EndpointsConfig"]) == ["appnet"]


def order(inspects):
    return [name_of(i) for i in containers.creation_order(inspects)]


def test_a_container_that_takes_volumes_from_another_is_created_after_it():
    assert order([WEB, LAYERED, JOINED]) == ["joined", "layered", "web"]
    reader = copy.deepcopy(LAYERED)
    reader["HostConfig"]["VolumesFrom"] = ["web:ro"]
    assert order([JOINED, reader, WEB]) == ["joined", "web", "layered"]
    looped = copy.deepcopy(WEB)
    looped["HostConfig"]["VolumesFrom"] = ["layered"]
    assert order([looped, reader]) == ["web", "layered"]     # a loop ends; each comes once


@pytest.mark.parametrize("path, value", [
    (("HostConfig", "RestartPolicy"), {"Name": "no", "MaximumRetryCount": 0}),
    (("HostConfig", "PortBindings"), {"80/tcp": [{"HostIp": "", "HostPort": "8081"}]}),
    (("Config", "Env"), ["A=1"]),
    (("NetworkSettings", "Networks"), {"bridge": {}}),
    (("Id",), "0" * 64), (("Created",), "2027-01-01T00:00:00Z"), (("State",), {"Running": False}),
])
def test_config_problems_name_each_kept_field_that_differs_and_no_other(path, value):
    assert containers.config_problems(WEB, copy.deepcopy(WEB)) == []
    changed = copy.deepcopy(WEB)
    parent = containers.field(changed, path[:-1])
    parent[path[-1]] = value
    problems = containers.config_problems(WEB, changed)
    if path[0] == "HostConfig" or path[0] == "Config":
        assert problems == ["container web: %s is %r, was %r" % (".".join(path), value,
                                                                 containers.field(WEB, path))]
    elif path[0] == "NetworkSettings":
        assert problems == ["container web: networks ['bridge'], were ['appnet']"]
    else:
        assert path not in containers.KEPT_FIELDS and problems == []
