"""What every scenario's testinfra verifier asks of a Docker host on a thin pool."""

import json
import os

import yaml

UNITS = {"B": 1, "kB": 10 ** 3, "MB": 10 ** 6, "GB": 10 ** 9, "TB": 10 ** 12}


def docker_size(text):
    """Bytes of a `docker info` size such as '2.147GB' (decimal units, as go-units prints)."""
    for unit in sorted(UNITS, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[:-len(unit)]) * UNITS[unit]
    raise ValueError("not a docker size: %r" % text)


def docker_info(host):
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def driver_status(host):
    info = docker_info(host)
    return info["Driver"], dict(info["DriverStatus"])


def scenario_group_vars(group):
    """The group variables molecule.yml gives the scenario's hosts (to compare against)."""
    with open(os.environ["MOLECULE_FILE"]) as handle:
        config = yaml.safe_load(handle)
    return config["provisioner"]["inventory"]["group_vars"].get(group, {})


def import_busybox(host, tag="busybox:local"):
    """An image made from the guest's busybox-static (no registry is reachable), imported once."""
    if host.run("docker image inspect %s" % tag).rc == 0:
        return tag
    host.check_output(
        "set -e; d=$(mktemp -d); mkdir -p $d/bin $d/tmp $d/data; cp /bin/busybox $d/bin/; "
        "for t in sh echo cat ls sleep; do ln -s busybox $d/bin/$t; done; "
        "tar -C $d -cf /root/busybox.tar .; rm -rf $d; docker import /root/busybox.tar %s" % tag)
    return tag


def run_writes_file(host, tag):
    out = host.check_output("docker run --rm --network none %s sh -c "
                            "'echo written-in-container > /data/proof && cat /data/proof'" % tag)
    return out.strip()
