"""Verifier of the containerd scenario, after the converge and again after a clean reboot:
containerd's devmapper snapshotter is ok on the host's pool (a loop pool on ctd-loop, the LV
containerd/thinpool on ctd-lvm), the pool's boot unit comes before containerd, an image imported
from an OCI archive built on the host runs and writes a file, and what containerd reads of its
configuration is what the release shipped plus the operator's CRI key, apart from the role's table."""

import json
import time

from oci_image import BUILD_OCI

POOL = "containerd-thinpool"
DEVMAPPER = ("plugins", "io.containerd.snapshotter.v1.devmapper")
IMAGE = "localhost/mol:1"
# the TOML a file or `containerd config dump` holds, as JSON (the guests' Pythons have tomllib)
READ_TOML = ("python3 -c 'import json, sys, tomllib; "
             "print(json.dumps(tomllib.load(open(sys.argv[1], \"rb\"))))' %s")


def toml(host, path):
    return json.loads(host.check_output(READ_TOML % path))


def without(config, *paths):
    """``config`` without the keys at ``paths`` (tuples of table names and a key)."""
    config = json.loads(json.dumps(config))
    for path in paths:
        table = config
        for name in path[:-1]:
            table = table.get(name, {})
        table.pop(path[-1], None)
    return config


def test_the_snapshotter_is_ok_on_the_hosts_pool(host):
    status = [line.split()[-1] for line in host.check_output("ctr plugins ls").splitlines()
              if line.split()[1:2] == ["devmapper"]]
    assert status == ["ok"]
    assert host.check_output("dmsetup table %s" % POOL).split()[2] == "thin-pool"
    dump = host.check_output("containerd config dump")
    assert 'pool_name = "%s"' % POOL in dump
    lvm = host.run("lvs --noheadings -o lv_attr containerd/thinpool")
    if host.backend.get_hostname() == "ctd-lvm":
        assert lvm.rc == 0 and lvm.stdout.strip().startswith("t")
    else:
        assert lvm.rc != 0
        assert "/var/lib/containerd-loop/data" in host.check_output("losetup -l")


def test_the_pools_boot_unit_comes_before_containerd(host):
    unit = "devmapper-pool@%s.service" % POOL
    shown = host.check_output("systemctl show -p Requires -p After containerd.service")
    assert shown.count(unit) == 2, shown
    assert host.check_output("systemctl is-active %s" % unit) == "active"


def test_an_image_runs_on_devmapper_snapshots_and_writes_a_file(host):
    if IMAGE not in host.check_output("ctr images ls -q"):
        host.check_output("cat > /root/build_oci.py <<'PYEOF'\n%s\nPYEOF" % BUILD_OCI)
        host.check_output("python3 /root/build_oci.py %s /root/mol.tar" % IMAGE)
        host.check_output("ctr images import --snapshotter devmapper /root/mol.tar")
    # the file the container writes is read back through a bind mount: ctr 1.7 with no
    # terminal and stdin at its end printed nothing of the container's output here
    name = "verify-%d" % time.time()
    host.check_output("mkdir -p /root/%s" % name)
    host.check_output(
        "ctr run --rm --snapshotter devmapper --mount type=bind,src=/root/%s,dst=/out,"
        "options=rbind:rw %s %s /bin/sh -c 'echo written > /tmp/proof && cat /tmp/proof > "
        "/out/proof' </dev/null" % (name, IMAGE, name))
    assert host.file("/root/%s/proof" % name).content_string == "written\n"


def test_the_configuration_is_the_shipped_one_plus_the_operators_key_apart_from_the_table(host):
    before, after = toml(host, "/root/config-before.toml"), toml(host, "/etc/containerd/config.toml")
    assert before["plugins"]["io.containerd.grpc.v1.cri"]["max_concurrent_downloads"] == 7
    assert after["imports"] == ["/etc/containerd/conf.d/devmapper-storage.toml"]
    assert without(after, ("imports",)) == before
    host.check_output("containerd config dump > /root/dump-after.toml")
    dumped = [without(toml(host, "/root/dump-%s.toml" % when), ("imports",), DEVMAPPER)
              for when in ("before", "after")]
    assert dumped[0] == dumped[1]
    table = toml(host, "/root/dump-after.toml")["plugins"]["io.containerd.snapshotter.v1.devmapper"]
    assert table["pool_name"] == POOL and table["base_image_size"] == "256MB"
    assert table["root_path"] == "/var/lib/containerd/devmapper"
