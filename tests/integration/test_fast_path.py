"""The roles' fast path on real-kernel guests: a converged host ends each role after one read-only
call; any drift (an edited file, monitoring off, a changed option) makes a full run that puts the
host right; with the fast path off the full run is idempotent too; check mode agrees."""

import json
import uuid

import pytest

from conftest import GUEST_VARS, GuestHandle, run_playbook, task_results

COMPARE = "Compare the host with what the last full run left"
NOTHING_RECORDED = "nothing recorded yet (no earlier run converged this host)"
RECORDS = "/var/lib/devmapper-storage/converged"
DROPINS = "/etc/systemd/system/docker.service.d"
# tasks that only a full run reaches, one per role
INNER = {"loop": "Sparse data and metadata files on loop devices",
         "lvm": "Thin pool at its share of the volume group",
         "docker": "Merge the storage settings into daemon.json"}


@pytest.fixture
def pair(lab):
    suffix = uuid.uuid4().hex[:4]
    names = {"loop": "fl" + suffix, "lvm": "fd" + suffix}
    try:
        lab.up([{"name": names["loop"], "disks": []}, {"name": names["lvm"], "disks": ["2G"]}])
        yield dict((k, GuestHandle(lab, v)) for k, v in names.items())
    finally:
        for name in names.values():
            if name in lab.guests:
                lab.remove_guest(lab.guests[name])


def site(lab, pair, check=False, **extra):
    extra_vars = dict(GUEST_VARS, site_loop_lvm_hosts=pair["loop"].name,
                      site_direct_lvm_hosts=pair["lvm"].name, **extra)
    rc, report = run_playbook(lab.inventory_path, "playbooks/site.yml",
                              limit="%s,%s" % (pair["loop"].name, pair["lvm"].name),
                              check=check, extra_vars=extra_vars)
    results = dict((key, task_results(report, guest.name)) for key, guest in pair.items())
    failed = [(key, name, r.get("msg")) for key, rows in results.items()
              for name, r in rows if r.get("failed")]
    assert rc == 0 and not failed, failed
    return results


def compares(rows):
    """The fast path's answers on one host, in play order: [(converged, reasons)]."""
    return [(r["converged"], r["reasons"]) for name, r in rows
            if name.endswith(COMPARE) and "converged" in r]


def ran(rows, task):
    return any(task in name and not r.get("skipped") for name, r in rows)


def changed(rows):
    return [name for name, r in rows if r.get("changed")]


def test_fast_path_ends_converged_roles_and_full_runs_put_drift_right(lab, pair):
    loop, lvm = pair["loop"], pair["lvm"]
    first = site(lab, pair)
    for key in ("loop", "lvm"):
        # site.yml's check of the whole host; the storage role; site.yml's check of the fleet for
        # Docker; the docker_daemon role
        assert compares(first[key])[0] == (False, [NOTHING_RECORDED]), key
        assert [c for c, dummy in compares(first[key])] == [False, False, False, False]
        assert ran(first[key], INNER[key]) and ran(first[key], INNER["docker"])
    # one record for the whole host, named after the roles it gets, listing what it compares
    record = json.loads(loop.out("cat %s/site-loop_lvm.json" % RECORDS))
    assert record["spec"]["dm_pools"] == ["docker-thinpool"]
    assert record["spec"]["docker"] == {"driver": "devicemapper", "pool": "docker-thinpool",
                                        "service": "docker.service"}
    assert "docker.service" in record["spec"]["units"]
    lvm.sh("test -f %s/site-direct_lvm.json" % RECORDS)   # fails when it is not there

    # converged: one read-only call per host, and site.yml leaves the host out of every play
    # after it (no storage role, no Docker check, no batch)
    again = site(lab, pair)
    for key in ("loop", "lvm"):
        assert compares(again[key]) == [(True, [])], key
        assert not ran(again[key], INNER[key]) and not ran(again[key], INNER["docker"])
        assert changed(again[key]) == [], key
    # and check mode says the same
    checked = site(lab, pair, check=True)
    for key in ("loop", "lvm"):
        assert compares(checked[key]) == [(True, [])] and not changed(checked[key])

    # the full path, asked for, is idempotent as well
    full = site(lab, pair, devmapper_storage_fast_path=False)
    for key in ("loop", "lvm"):
        assert compares(full[key]) == [] and ran(full[key], INNER[key])
        assert changed(full[key]) == [], key

    # drift: Docker's storage settings edited away and monitoring turned off on the LVM host
    lvm.sh("python3 -c \"import json; p='/etc/docker/daemon.json'; d=json.load(open(p)); "
           "d.pop('storage-opts'); json.dump(d, open(p, 'w'))\"")
    lvm.sh("lvchange -q --monitor n docker/thinpool")
    drift = site(lab, pair)
    # site.yml's one call names both; then each role's own check names its own drift
    whole, storage, docker = compares(drift["lvm"])[:3]
    assert not whole[0] and set(storage[1] + docker[1]) <= set(whole[1]), whole
    assert storage == (False, ["LVM pool docker/thinpool is not monitored by dmeventd "
                               "(not monitored)"]), storage
    assert not docker[0] and any("/etc/docker/daemon.json changed" in r for r in docker[1]), docker
    assert lvm.out("lvs --noheadings -o seg_monitor docker/thinpool").strip() == "monitored"
    opts = json.loads(lvm.out("cat /etc/docker/daemon.json"))["storage-opts"]
    assert "dm.thinpooldev=/dev/mapper/docker-thinpool" in opts
    assert lvm.out("docker info --format '{{.Driver}}'").strip() == "devicemapper"
    # the other host did not drift, and stayed on the fast path
    assert compares(drift["loop"]) == [(True, [])]

    # a changed option (a larger loop pool) is a changed wanted state for every host
    loop_table = loop.out("dmsetup table docker-thinpool").split()
    grow = site(lab, pair, loop_lvm_data_size="2G")
    for key in ("loop", "lvm"):
        assert compares(grow[key])[0] == (
            False, ["the wanted state (role options or the collection's code) changed"]), key
    grown = loop.out("dmsetup table docker-thinpool").split()
    assert int(grown[1]) == 2 * int(loop_table[1]), (loop_table, grown)

    # put right and recorded again: the next run is a fast one with the new size
    settled = site(lab, pair, loop_lvm_data_size="2G")
    for key in ("loop", "lvm"):
        assert compares(settled[key]) == [(True, [])], key

    # a preflight fact: storage flags given to dockerd by a drop-in (its next start would fail
    # next to daemon.json's settings) take the host off the fast path, in the preflight's words
    record = json.loads(lvm.out("cat %s/site-direct_lvm.json" % RECORDS))
    check = {"name": "site-direct_lvm", "fingerprint": record["fingerprint"],
             "recorded_spec": True}
    lvm.sh("mkdir -p %s && printf '[Service]\\nExecStart=\\nExecStart=/usr/sbin/dockerd "
           "-H fd:// -s devicemapper\\n' > %s/flags.conf && systemctl daemon-reload"
           % (DROPINS, DROPINS))
    flagged = lvm.module("devmapper.storage.converged_state", check)
    assert not flagged["converged"] and any(
        "storage options as flags" in r and "flags.conf" in r for r in flagged["reasons"]), flagged
    lvm.sh("rm %s/flags.conf && systemctl daemon-reload" % DROPINS)
    assert lvm.module("devmapper.storage.converged_state", check)["converged"]
