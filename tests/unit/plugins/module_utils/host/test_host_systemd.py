"""host/systemd.py: the systemctl command lines it builds (no systemctl output is captured yet, so
only exit statuses are given)."""

from ansible_collections.devmapper.storage.plugins.module_utils.host import systemd
from fake_host import CapturedModule

OK = {"rc": 0, "stdout": "", "stderr": ""}
INACTIVE = {"rc": 3, "stdout": "", "stderr": ""}


def test_holding_and_releasing_units():
    module = CapturedModule(OK, INACTIVE, OK, OK, OK, OK, OK)
    units = systemd.Systemd(module)
    units.stop(["docker.socket", "docker.service"])
    assert units.is_active("docker.service") is False
    units.unmask(["docker.socket", "docker.service"])
    units.unmask(["docker.socket"], reload=False)
    units.daemon_reload()
    units.restart("devmapper-pool@p.service")
    units.start("docker.service")
    assert module.calls == [
        ["/sbin/systemctl", "stop", "docker.socket", "docker.service"],
        ["/sbin/systemctl", "is-active", "--quiet", "docker.service"],
        ["/sbin/systemctl", "unmask", "docker.socket", "docker.service"],
        ["/sbin/systemctl", "unmask", "--no-reload", "docker.socket"],
        ["/sbin/systemctl", "daemon-reload"],
        ["/sbin/systemctl", "restart", "devmapper-pool@p.service"],
        ["/sbin/systemctl", "start", "docker.service"]]


def test_show_asks_for_the_properties_of_every_unit():
    module = CapturedModule(INACTIVE)
    assert systemd.Systemd(module).show(["a.service", "b"], ("Id", "ActiveState")) == {}
    assert module.calls == [["/sbin/systemctl", "show", "--property=Id,ActiveState",
                             "a.service", "b"]]
