"""containerd's devmapper snapshotter given a pool by containerd_config on a real guest (issue 17):
a loop pool made with the collection's modules, the table imported from a drop-in in the schema of
the release's shipped config.toml, every other setting kept (containerd's own reading and Python's
TOML parser say so), the plugin `ok` after a restart, and an image imported from a locally built
OCI archive running on devmapper snapshots. Refusals change nothing."""

import hashlib
import tomllib

import pytest
import yaml

from conftest import run_playbook, task_results
from oci_image import build_oci_image

MAIN = "/etc/containerd/config.toml"
DROPIN = "/etc/containerd/conf.d/devmapper-storage.toml"
INFO = "devmapper.storage.containerd_devmapper_info"
CONFIG = "devmapper.storage.containerd_config"
ARGS = {"pool_name": "ctd-pool", "root_path": "/var/lib/containerd/devmapper",
        "base_image_size": "256MB"}
# a setting of the admin's own in the CRI table, which must stay
CUSTOM_CRI = ("sed -i 's|^    \\[plugins.\"io.containerd.grpc.v1.cri\".cni\\]|"
              "    sandbox_image = \"example.invalid/pause:1\"\\n&|' %s" % MAIN)


def files(g):
    return g.out("sha256sum %s %s 2>&1; ls /etc/containerd/conf.d 2>&1 || true" % (MAIN, DROPIN))


@pytest.mark.parametrize("release", ["bookworm", "trixie"], indirect=True)
@pytest.mark.disks()
def test_the_snapshotter_gets_its_pool_and_runs_an_image(fresh_disks, release):
    g = fresh_disks
    g.sh("cp -a %s /root/shipped.toml" % MAIN)
    try:
        snapshotter_gets_its_pool_and_runs_an_image(g, release)
    finally:
        # the guest lives on for other tests: containerd as the image has it
        g.sh("systemctl stop containerd; cp -a /root/shipped.toml %s && "
             "rm -rf /var/lib/containerd/devmapper /var/lib/containerd/io.containerd.* "
             "/etc/containerd/conf.d %s.*" % (MAIN, MAIN))


def snapshotter_gets_its_pool_and_runs_an_image(g, release):
    g.sh("mkdir -p /var/lib/ctd && modprobe dm_thin_pool && " + CUSTOM_CRI)
    loops = g.module("devmapper.storage.loop_pool",
                     {"data_file": "/var/lib/ctd/data", "metadata_file": "/var/lib/ctd/meta",
                      "data_size": "2G", "metadata_size": "64M"})
    pool = g.module("devmapper.storage.dm_thinpool",
                    {"backend": "dm", "name": "ctd-pool",
                     "data_device": loops["data"]["loop_device"],
                     "metadata_device": loops["metadata"]["loop_device"]})
    assert pool["changed"] and not pool.get("failed"), pool
    shipped = g.out("cat %s" % MAIN)
    assert "example.invalid/pause:1" in shipped

    untouched = files(g)
    check = g.module(CONFIG, ARGS, check=True, diff=True)
    assert check["changed"] and check["version"] == 2 and files(g) == untouched, check
    made = g.module(CONFIG, ARGS, diff=True)
    assert made["changed"] and [a["cmd"] for a in made["actions"]] == [
        a["cmd"] for a in check["actions"]], made
    assert made["backup_file"].startswith(MAIN + ".")
    assert g.module(CONFIG, ARGS)["changed"] is False

    # the main file means what it meant, plus the import; the drop-in holds the table alone
    before, after = tomllib.loads(shipped), tomllib.loads(g.out("cat %s" % MAIN))
    assert after.pop("imports") == [DROPIN] and after == before
    dropin = tomllib.loads(g.out("cat %s" % DROPIN))
    assert dropin == {"version": 2, "plugins": {"io.containerd.snapshotter.v1.devmapper": {
        "pool_name": "ctd-pool", "root_path": "/var/lib/containerd/devmapper",
        "base_image_size": "256MB", "async_remove": False, "discard_blocks": False,
        "fs_type": "ext4"}}}

    g.sh("systemctl restart containerd")
    plugins = g.out("ctr plugins ls | awk '$2 == \"devmapper\" {print $1, $4}'").split()
    print("%s: containerd %s, devmapper plugin %s" % (
        release, g.out("containerd --version").split()[2], plugins))
    assert plugins == ["io.containerd.snapshotter.v1", "ok"], plugins

    build_oci_image(g, "localhost/bb:1", "/root/bb.tar")
    g.sh("ctr images import --snapshotter devmapper /root/bb.tar")
    said = g.out("ctr run --rm --snapshotter devmapper localhost/bb:1 c1 "
                 "/bin/sh -c 'echo written > /tmp/f && cat /tmp/f && cat /proc/self/mountinfo'")
    assert said.splitlines()[0] == "written"
    # the container's root is a thin device of the pool, seen from inside while it runs (after
    # `--rm` containerd's garbage collector removes the device whenever it gets to it)
    assert root_mount(said) == ("ext4", "/dev/mapper/ctd-pool-snap-"), said

    # a pool whose devices no state describes, and another pool while the state of this one is
    # kept: refused without force, nothing changed
    state = files(g)
    for args, words in (
            (dict(ARGS, root_path="/var/lib/containerd/elsewhere"),
             "pool_name: pool ctd-pool holds thin devices (ids "),
            (dict(ARGS, pool_name="ctd-other"),
             "pool_name: containerd's devmapper snapshotter keeps the state of pool ctd-pool in "
             "/var/lib/containerd/devmapper/metadata.db")):
        refused = g.module(CONFIG, args)
        assert refused.get("failed") and refused["changed"] is False, refused
        assert refused["msg"].startswith(words) and "force=true" in refused["msg"], refused
        assert files(g) == state
        assert g.module(CONFIG, dict(args, force=True), check=True)["changed"] is True

    # a main file containerd cannot read: refused, nothing changed
    g.sh("printf '[plugins\\n' >> %s" % MAIN)
    digest = hashlib.sha256(g.out("cat %s" % MAIN).encode()).hexdigest()
    refused = g.module(CONFIG, dict(ARGS, pool_name="other-pool"))
    assert refused.get("failed") and refused["changed"] is False, refused
    assert refused["msg"].startswith("path: %s is not a configuration containerd can read" % MAIN)
    assert hashlib.sha256(g.out("cat %s" % MAIN).encode()).hexdigest() == digest
    assert "ctd-pool" in g.out("cat %s" % DROPIN)


def root_mount(mountinfo):
    """(fs type, source without its trailing number) of the mount on / in a mountinfo text."""
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/" and " - " in line:
            fs_type, source = line.split(" - ", 1)[1].split()[:2]
            return fs_type, source.rstrip("0123456789")
    return None


def converge(lab, g, tmp_path, tasks_from="main", check=False, **extra):
    """The role on the guest (a loop pool); (rc, failed messages, tasks that changed)."""
    path = str(tmp_path / "containerd.yml")
    role_vars = dict({"containerd_devmapper_data_size": "2G",
                      "containerd_devmapper_metadata_size": "64M",
                      "containerd_devmapper_base_image_size": "256MB"}, **extra)
    with open(path, "w") as handle:
        yaml.safe_dump([{"name": "containerd on devmapper", "hosts": g.name,
                         "gather_facts": False, "vars": role_vars,
                         "tasks": [{"ansible.builtin.include_role": {
                             "name": "devmapper.storage.containerd_devmapper",
                             "tasks_from": tasks_from}}]}], handle)
    rc, report = run_playbook(lab.inventory_path, path, check=check)
    rows = task_results(report, g.name)
    # tasks of an included role are named "ROLE : TASK"
    return rc, [r.get("msg") for dummy, r in rows if r.get("failed")], \
        [name.split(" : ")[-1] for name, r in rows if r.get("changed")]


def runs_an_image(g, name):
    plugins = g.out("ctr plugins ls | awk '$2 == \"devmapper\" {print $4}'").split()
    assert plugins == ["ok"], plugins
    return g.out("ctr run --rm --snapshotter devmapper localhost/bb:1 %s "
                 "/bin/sh -c 'cat /etc/hostname 2>/dev/null; echo ran'" % name).split()[-1]


@pytest.mark.disks()
def test_the_role_gives_containerd_a_loop_pool_and_repairs_drift(
        lab, fresh_guest, tmp_path):
    g = fresh_guest
    rc, failed, changed = converge(lab, g, tmp_path)
    assert rc == 0 and not failed and changed, failed
    rc, failed, changed = converge(lab, g, tmp_path)
    assert rc == 0 and not failed and changed == [], changed       # idempotent, 0 changed
    # containerd needs the pool: Requires= and After= on its boot unit; Docker is left alone
    unit = "devmapper-pool@containerd-thinpool.service"
    assert unit in g.out("systemctl show -p Requires -p After containerd.service")
    assert unit not in g.out("systemctl show -p Requires docker.service")
    assert "docker" not in g.out("cat /etc/containerd/conf.d/devmapper-storage.toml")
    build_oci_image(g, "localhost/bb:1", "/root/bb.tar")
    g.sh("ctr images import --snapshotter devmapper /root/bb.tar")
    assert runs_an_image(g, "first") == "ran"
    # a reboot and a power cut of a loop pool's host and of an LVM pool's host: molecule's
    # containerd scenario (it verifies after each)
    drift_found_then_repaired(lab, g, tmp_path)
    a_snapshotter_in_error_fails_the_run_with_its_message(lab, g, tmp_path)


def a_snapshotter_in_error_fails_the_run_with_its_message(lab, g, tmp_path):
    """containerd loads a snapshotter it cannot use as `error` and runs on: a run of the role
    fails with the plugin's own message (here its state file is not a database any more)."""
    g.sh("systemctl stop containerd; head -c 16384 /dev/urandom > "
         "/var/lib/containerd/devmapper/containerd-thinpool.db; systemctl start containerd")
    rc, failed, changed = converge(lab, g, tmp_path)
    assert rc != 0 and changed == [], (failed, changed)
    assert failed[-1].startswith("containerd's devmapper snapshotter is error (pool "
                                 "containerd-thinpool): "), failed
    detail = g.out("ctr plugins ls --detailed id==devmapper")
    message = [line.split("Message:", 1)[1].strip() for line in detail.splitlines()
               if "Message:" in line]
    assert message and message[0] in failed[-1], (message, failed)


def pool_ids_and_transaction(g):
    ids = set(g.module(INFO, {"pool_name": "containerd-thinpool"}, check=True)["pool_thin_ids"])
    # all of the status but the used block counts: transaction id, held metadata root, mode
    status = g.out("dmsetup status containerd-thinpool").split()
    at = status.index("thin-pool")
    return ids, [status[at + 1]] + status[at + 4:]


def untouched_since(g, before):
    (ids_before, status_before), (ids, status) = before, pool_ids_and_transaction(g)
    assert 777 in ids and ids <= ids_before and status == status_before, (before, ids, status)


def drift_found_then_repaired(lab, g, tmp_path):
    """A thin id in the pool that the snapshotter's state does not name, as a crash between the
    pool's create_thin and the state's write leaves it: the check reports it (and changes
    nothing), the repair refuses it without force and lists it in check mode, deletes it with
    force; containerd still runs an image. containerd's garbage collector removes the devices of
    the container that ran with --rm whenever it gets to it, so "nothing changed" is asserted as
    what the role could change: no thin id made, 777 not deleted, the transaction id, the held
    metadata root and the pool's mode kept."""
    info = g.module(INFO, {"pool_name": "containerd-thinpool"})
    assert info["in_sync"] is True and info["orphan_ids"] == [], info
    # the snapshotter's devices are the pool's thin ids: layers, the image's and the runs'
    assert info["devices"] and sorted(d["device_id"] for d in info["devices"].values()
                                      if d["state"] != "Removed") == info["pool_thin_ids"], info
    g.sh("dmsetup message containerd-thinpool 0 'create_thin 777'")
    before = pool_ids_and_transaction(g)
    info = g.module(INFO, {"pool_name": "containerd-thinpool"}, check=True)
    assert info["orphan_ids"] == [777] and info["in_sync"] is False, info
    assert info["changed"] is False
    untouched_since(g, before)
    rc, failed, changed = converge(lab, g, tmp_path, tasks_from="repair")
    assert rc != 0 and failed and failed[0].startswith("containerd_devmapper_force: pool "
                                                       "containerd-thinpool holds thin ids 777")
    untouched_since(g, before)
    rc, failed, changed = converge(lab, g, tmp_path, tasks_from="repair", check=True,
                                   containerd_devmapper_force=True)
    assert rc == 0 and changed == ["Delete the orphan thin ids from the pool"], (failed, changed)
    untouched_since(g, before)
    rc, failed, changed = converge(lab, g, tmp_path, tasks_from="repair",
                                   containerd_devmapper_force=True)
    assert rc == 0 and changed == ["Delete the orphan thin ids from the pool"], (failed, changed)
    info = g.module(INFO, {"pool_name": "containerd-thinpool"})
    assert info["in_sync"] is True and 777 not in info["pool_thin_ids"], info
    assert runs_an_image(g, "after-repair") == "ran"
