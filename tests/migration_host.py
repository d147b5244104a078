"""The loop-lvm host a migration starts from (site.yml's pool and Docker on it, then the
migration workload), made once per machine and code and saved: the migration tests and the
molecule scenario `migrate` boot copies of it instead of converging their own."""

from conftest import GUEST_VARS, content_key, run_playbook, saved_state, task_results

MIGRATION_VARS = dict(GUEST_VARS, loop_lvm_data_size="2G", loop_lvm_metadata_size="128M",
                      storage_migration_target="direct_lvm")
SPEC = {"disks": ["3G"], "suite": "bookworm"}
# molecule/migrate/molecule.yml names this variable for its platform (create.yml)
STATE_ENV = "DEVMAPPER_MIGRATION_LOOP_HOST"


def failures(report, guest):
    return [(name, r.get("msg")) for name, r in task_results(report, guest.name) if r.get("failed")]


def converge_loop_host(lab, guest):
    """A loop-lvm host as site.yml makes it, with the migration workload on it."""
    for playbook in ("playbooks/site.yml", "molecule/shared/migration_workload.yml"):
        rc, report = run_playbook(lab.inventory_path, playbook, limit=guest.name,
                                  extra_vars=dict(MIGRATION_VARS, site_loop_lvm_hosts=guest.name))
        assert rc == 0, failures(report, guest)


def key():
    return content_key("bookworm", "migration-loop-host", MIGRATION_VARS, SPEC)


def loop_host_state(lab):
    """The saved host's directory (made first when this machine has none for this code)."""
    return saved_state(lab, key(), SPEC, lambda handle: converge_loop_host(lab, handle))
