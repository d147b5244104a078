"""The bad-input sweep's table, made from the code: every option of every module's argument spec
and every variable of every role's argument_specs, each classified here as a path, a size, a name
or other. A path, size or name gets the bad values of its kind, one row each; an option that
appears in the code without a classification here, or a kind without bad values, makes
``unclassified()`` and ``kinds_without_bad_values()`` non-empty (the unit test fails on them).

Used by tests/unit/plugins/test_bad_input.py (the module's check and the roles' filter, no host)
and tests/integration/test_bad_input_on_a_guest.py (the same rows on a guest)."""

import collections
import importlib
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES_DIR = os.path.join(REPO, "plugins", "modules")
ROLES_DIR = os.path.join(REPO, "roles")
MODULE_PACKAGE = "ansible_collections.devmapper.storage.plugins.modules."

# Each kind's class in the terms, and values that must be refused.
CLASS = {"path": "path", "dm_name": "name", "optional_dm_name": "name", "vg_name": "name",
         "lv_name": "name", "vg_lv": "name", "file_name": "name", "device_size": "size",
         "loop_data_size": "size", "loop_metadata_size": "size", "lvm_data_size": "size",
         "lvm_metadata_size": "size", "block_size": "size", "block_sectors": "size"}
_NAMES = ["has space", "a/b", "-leading-dash", "tab\tname"]
_LVM_NAMES = _NAMES + [".", "..", "bad$char", "x" * 128]
BAD = {
    "path": ["relative/file", "./here", ""],
    "dm_name": [""] + _NAMES + [".", "..", "control", "x" * 128],
    "optional_dm_name": _NAMES + [".", "control", "x" * 128],
    "vg_name": [""] + _LVM_NAMES,
    "lv_name": [""] + _LVM_NAMES + ["snapshot", "pvmove0", "pool_tmeta", "x_tdata", "a_pmspare",
                                    "c_cvol"],
    "vg_lv": ["docker", "a b/c", "vg/-lv", "vg/lv_tmeta", "/lv", "vg/lv/x"],
    "file_name": ["", "a/b", ".hidden", ".."],
    "device_size": ["0", "0G", "1000", "-5G", "10X"],
    "loop_data_size": ["0", "1000", "512", "32K", "95%VG"],
    "loop_metadata_size": ["0", "512", "1M", "1000"],
    "lvm_data_size": ["0", "0%VG", "101%VG", "100K", "1000", "95%XX"],
    "lvm_metadata_size": ["0", "1M", "0%FREE", "512"],
    "block_size": ["0", "100K", "32K", "2G", "512"],
    "block_sectors": [0, 100, 64, 4194304, "128s"],
}

# Every module option: its kind, "other", or a list of (kind, arguments that give it that kind).
MODULE_KINDS = {
    "converged_state": {"name": "file_name", "state": "other", "fingerprint": "other",
                        "files": "path", "sizes": "path", "dm_pools": "dm_name",
                        "lvm_pools": "vg_lv", "units": "other", "docker": "other",
                        "docker.driver": "other", "docker.pool": "optional_dm_name",
                        "docker.service": "other",
                        # specs: dicts of the options above, each checked as they are
                        "specs": "other", "recorded_spec": "other", "record_dir": "path"},
    "containerd_config": {"lock_timeout": "other", "path": "path", "dropin_path": "path",
                          "pool_name": "dm_name", "root_path": "path",
                          "base_image_size": "other", "async_remove": "other",
                          "discard_blocks": "other", "fs_type": "other", "fs_options": "other",
                          "cri_default_snapshotter": "other", "backup": "other",
                          "force": "other", "option_names": "other"},
    "containerd_devmapper_info": {"pool_name": "dm_name", "root_path": "path"},
    "dm_base_device": {"lock_timeout": "other", "pool": "dm_name", "device_id": "other", "name": "dm_name",
                       "size": "device_size", "fs_type": "other", "state": "other",
                       "force": "other"},
    "dm_snapshot": {"lock_timeout": "other", "option_names": "other", "pool": "dm_name", "snapshot_id": "other", "origin_id": "other",
                    "name": "dm_name", "size": "device_size", "state": "other", "force": "other"},
    "dm_thinpool": {"lock_timeout": "other", "backend": "other",
                    "name": [("lv_name", {"backend": "lvm"}), ("dm_name", {"backend": "dm"})],
                    "state": "other", "vg": "vg_name", "data_size": "lvm_data_size",
                    "metadata_size": "lvm_metadata_size", "chunk_size": "block_size",
                    "metadata_lv": "lv_name", "zero": "other",
                    "data_device": [("path", {"backend": "dm"})],
                    "metadata_device": [("path", {"backend": "dm"})],
                    "block_size": [("block_size", {"backend": "dm"})],
                    "low_water_mark": "other", "skip_block_zeroing": "other",
                    "error_if_no_space": "other", "force": "other", "option_names": "other"},
    "dm_thinpool_info": {"backend": "other",
                         "name": [("lv_name", {"backend": "lvm"}), ("dm_name", {"backend": "dm"})],
                         "vg": "vg_name"},
    "dm_snapshot_info": {"pool": "dm_name", "read_metadata": "other"},
    "loop_pool_info": {"data_file": "path", "metadata_file": "path"},
    "docker_engine_info": {"service": "other", "wait_for_driver": "other",
                           "wait_for_pool": "optional_dm_name", "wait_seconds": "other",
                           "expect_driver": "other", "expect_pool": "optional_dm_name",
                           "config_path": "path"},
    "dm_thinpool_repair": {"lock_timeout": "other", "option_names": "other", "backend": "other",
                           "name": [("lv_name", {"backend": "lvm"}),
                                    ("dm_name", {"backend": "dm"})],
                           "vg": [("vg_name", {"backend": "lvm"})],
                           "metadata_file": [("path", {"backend": "dm"})], "force": "other"},
    "docker_container_filesystems": {"restart": "other", "stop_seconds": "other",
                                     "service": "other"},
    "docker_daemon_config": {"lock_timeout": "other", "path": "path", "settings": "other", "mode": "other",
                             "backup": "other", "option_names": "other"},
    "docker_storage_migration": {"step": "other", "name": "other", "target": "other",
                                 "backup_dir": "path", "backup_mode": "other",
                                 "remove_backup": "other", "docker_root": "path",
                                 "state_file": "path", "config_paths": "path",
                                 "target_vg": "vg_name", "target_pool": "lv_name", "error": "other",
                                 "drop_uncarriable_containers": "other",
                                 "fault_point": "other", "staged_pool": "lv_name",
                                 "through": "other", "switch_files": "other",
                                 "switch_files.path": "path", "switch_files.content": "other",
                                 "switch_files.mode": "other",
                                 "switch_remove": "path", "daemon_settings": "other",
                                 "daemon_config_path": "path"},
    "loop_pool": {"lock_timeout": "other", "data_file": "path", "metadata_file": "path", "data_size": "loop_data_size",
                  "metadata_size": "loop_metadata_size", "state": "other",
                  "remove_files": "other", "force": "other", "free_space_action": "other",
                  # 0 keeps nothing free: not a device size
                  "free_space_reserve": "other", "option_names": "other"},
    "lvm_thinpool_profile": {"lock_timeout": "other", "option_names": "other", "vg": "vg_name", "pool": "lv_name", "profile": "file_name",
                             "threshold": "other", "percent": "other", "monitor": "other",
                             "state": "other"},
    "lvm_volume_group": {"lock_timeout": "other", "vg": "vg_name", "devices": "path", "force": "other", "state": "other",
                         "option_names": "other"},
    "managed_files": {"lock_timeout": "other", "files": "other", "files.path": "path", "files.content": "other",
                      "files.mode": "other", "option_names": "other"},
}

# Arguments that are good apart from the row's option, and harmless on a host if a check were
# missing: names and paths that do not exist, read-only steps.
NOWHERE = "/nonexistent-bad-input"
GOOD_ARGS = {
    "converged_state": {"name": "bad-input", "fingerprint": "bad-input",
                        "record_dir": NOWHERE + "/converged"},
    "containerd_config": {"path": NOWHERE + "/config.toml", "dropin_path": NOWHERE + "/dm.toml",
                          "pool_name": "bad-input-pool"},
    "containerd_devmapper_info": {"pool_name": "bad-input-pool", "root_path": NOWHERE + "/dm"},
    "dm_base_device": {"pool": "bad-input-pool", "name": "bad-input-base", "size": "1G"},
    "dm_snapshot": {"pool": "bad-input-pool", "snapshot_id": 1, "origin_id": 0,
                    "name": "bad-input-snap", "size": "1G"},
    # inactive: a pool that does not exist is left so, should a check be missing
    "dm_thinpool": {"backend": "lvm", "vg": "bad-input-vg", "state": "inactive"},
    "dm_thinpool_info": {"backend": "lvm", "vg": "bad-input-vg"},
    "dm_snapshot_info": {"pool": "bad-input-pool"},
    "docker_engine_info": {"wait_for_driver": "devicemapper", "wait_seconds": 0,
                           "expect_driver": "devicemapper"},
    "dm_thinpool_repair": {"backend": "dm", "name": "bad-input-pool",
                           "metadata_file": NOWHERE + "/metadata"},
    "docker_container_filesystems": {},
    "docker_daemon_config": {"path": NOWHERE + "/daemon.json", "settings": {}},
    "docker_storage_migration": {"step": "status", "backup_dir": NOWHERE + "/backup",
                                 "state_file": NOWHERE + "/migration.json",
                                 "switch_files": [{"path": NOWHERE + "/file", "content": "",
                                                   "mode": "0644"}]},
    "loop_pool": {"data_file": NOWHERE + "/data", "metadata_file": NOWHERE + "/metadata",
                  "state": "absent"},
    "loop_pool_info": {"data_file": NOWHERE + "/data", "metadata_file": NOWHERE + "/metadata"},
    "lvm_thinpool_profile": {"vg": "bad-input-vg"},
    "lvm_volume_group": {"vg": "bad-input-vg", "devices": [NOWHERE + "/disk"]},
    "managed_files": {"files": [{"path": NOWHERE + "/file", "content": "", "mode": "0644"}]},
}
GOOD_DM_ARGS = {"name": "bad-input-pool", "data_device": NOWHERE + "/data",
                "metadata_device": NOWHERE + "/metadata"}

# Every role variable (argument_specs, every entry point): its kind, or "other".
ROLE_KINDS = {
    "direct_lvm": {"direct_lvm_devices": "path", "direct_lvm_force": "other",
                   "direct_lvm_vg": "vg_name", "direct_lvm_pool": "lv_name",
                   "direct_lvm_data_size": "lvm_data_size",
                   "direct_lvm_metadata_size": "lvm_metadata_size",
                   "direct_lvm_chunk_size": "block_size", "direct_lvm_zero": "other",
                   "direct_lvm_autoextend_threshold": "other",
                   "direct_lvm_autoextend_percent": "other",
                   # Docker's dm.min_free_space is a percentage of the pool, not a size
                   "direct_lvm_min_free_space": "other",
                   "direct_lvm_configure_docker": "other", "direct_lvm_fast_path": "other",
                   "direct_lvm_engine_services": "other"},
    "docker_daemon": {"docker_daemon_config_path": "path", "docker_daemon_storage_driver": "other",
                      # dm.thinpooldev=/dev/mapper/NAME and other dm.* options: Docker's to read
                      "docker_daemon_storage_opts": "other", "docker_daemon_options": "other",
                      "docker_daemon_expected_pool": "optional_dm_name",
                      "docker_daemon_install": "other", "docker_daemon_package": "other",
                      "docker_daemon_service": "other",
                      "docker_daemon_allow_driver_change": "other",
                      "docker_daemon_wait_seconds": "other", "docker_daemon_start": "other",
                      "docker_daemon_fast_path": "other"},
    "loop_lvm": {"loop_lvm_data_file": "path", "loop_lvm_metadata_file": "path",
                 "loop_lvm_data_size": "loop_data_size",
                 "loop_lvm_metadata_size": "loop_metadata_size", "loop_lvm_pool_name": "dm_name",
                 "loop_lvm_block_size": "block_size", "loop_lvm_low_water_mark": "other",
                 "loop_lvm_configure_docker": "other", "loop_lvm_min_free_space": "other",
                 "loop_lvm_free_space_action": "other", "loop_lvm_free_space_reserve": "other",
                 "loop_lvm_fast_path": "other", "loop_lvm_engine_services": "other",
                 "loop_lvm_repair_force": "other"},
    "pool_metrics": {"pool_metrics_textfile_dir": "path", "pool_metrics_interval": "other",
                     "pool_metrics_python": "path"},
    "containerd_devmapper": {
        "containerd_devmapper_backend": "other", "containerd_devmapper_data_file": "path",
        "containerd_devmapper_metadata_file": "path",
        "containerd_devmapper_data_size": "loop_data_size",
        "containerd_devmapper_metadata_size": "loop_metadata_size",
        "containerd_devmapper_pool_name": "dm_name", "containerd_devmapper_devices": "path",
        "containerd_devmapper_vg": "vg_name", "containerd_devmapper_lv": "lv_name",
        "containerd_devmapper_force": "other", "containerd_devmapper_root_path": "path",
        "containerd_devmapper_base_image_size": "other", "containerd_devmapper_fs_type": "other",
        "containerd_devmapper_fs_options": "other", "containerd_devmapper_async_remove": "other",
        "containerd_devmapper_discard_blocks": "other", "containerd_devmapper_cri_default": "other",
        "containerd_devmapper_config_path": "path"},
    # internal (the roles' and site.yml's fast path): names made by the collection itself
    "fast_path": {"__fast_path_name": "other", "__fast_path_spec": "other",
                  "__fast_path_recorded_spec": "other", "__fast_path_specs": "other",
                  "__fast_path_on": "other"},
    "pool_activation": {"pool_activation_name": "dm_name", "pool_activation_backend": "other",
                        "pool_activation_vg": "vg_name", "pool_activation_lv": "lv_name",
                        "pool_activation_data_file": "path",
                        "pool_activation_metadata_file": "path",
                        "pool_activation_block_sectors": "block_sectors",
                        "pool_activation_low_water_mark": "other",
                        "pool_activation_features": "other", "pool_activation_services": "other",
                        "pool_activation_wait_seconds": "other"},
    "preflight": {"preflight_backend": "other", "preflight_install_packages": "other",
                  "preflight_extra_packages": "other"},
    "storage_migration": {"storage_migration_target": "other",
                          "storage_migration_backup_dir": "path",
                          "storage_migration_backup_mode": "other",
                          "storage_migration_remove_backup": "other",
                          "storage_migration_state_file": "path",
                          "storage_migration_fault_point": "other",
                          "storage_migration_drop_uncarriable_containers": "other"},
}
# Variables a role needs besides its defaults for the row's variable to be the only thing wrong.
GOOD_ROLE_VARS = {"direct_lvm": {"direct_lvm_devices": [NOWHERE + "/disk"]},
                  "storage_migration": {"storage_migration_target": "overlay2"}}

ModuleRow = collections.namedtuple("ModuleRow", "module option kind value args")
RoleRow = collections.namedtuple("RoleRow", "role variable kind value vars")


class _Captured(Exception):
    pass


_SPECS = {}


def argument_spec(module):
    """The argument spec a module's main() gives AnsibleModule (main() stops there)."""
    return module_arguments(module)["argument_spec"]


def module_arguments(module):
    """Everything a module's main() gives AnsibleModule: argument_spec, required_if, ..."""
    if module not in _SPECS:
        _SPECS[module] = _captured_arguments(module)
    return _SPECS[module]


def _captured_arguments(module):
    mod = importlib.import_module(MODULE_PACKAGE + module)
    seen = {}

    def capture(**kwargs):
        seen.update(kwargs)
        raise _Captured()
    real = mod.AnsibleModule
    mod.AnsibleModule = capture
    try:
        mod.main()
    except _Captured:
        pass
    finally:
        mod.AnsibleModule = real
    return seen


def module_names():
    return sorted(n[:-3] for n in os.listdir(MODULES_DIR) if n.endswith(".py"))


def module_options(module):
    """Option names, suboptions as ``option.suboption``."""
    names = []
    for name, spec in sorted(argument_spec(module).items()):
        names.append(name)
        names += ["%s.%s" % (name, sub) for sub in sorted(spec.get("options") or {})]
    return names


def role_names():
    return sorted(d for d in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, d)))


def _yaml(*parts):
    path = os.path.join(ROLES_DIR, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return yaml.safe_load(handle)


def role_options(role):
    """{variable: its spec} over every entry point of the role's argument_specs."""
    options = {}
    for entry in _yaml(role, "meta", "argument_specs.yml")["argument_specs"].values():
        options.update(entry.get("options") or {})
    return options


def role_defaults(role):
    return _yaml(role, "defaults", "main.yml") or {}


def role_inputs(role):
    """The role's own table of kinds (vars/main.yml, __ROLE_inputs), as its first task reads it."""
    return (_yaml(role, "vars", "main.yml") or {}).get("__" + role + "_inputs", {})


def variants(kinds, option):
    entry = kinds.get(option, None)
    if entry is None or entry == "other":
        return []
    return [(entry, {})] if isinstance(entry, str) else entry


def unclassified():
    """Options and variables in the code that this table does not classify, and entries of the
    table the code no longer has."""
    problems = []
    for module in module_names():
        options = module_options(module)
        table = MODULE_KINDS.get(module, {})
        problems += ["module %s: option %s" % (module, o) for o in options if o not in table]
        problems += ["module %s: %s is gone" % (module, o) for o in table if o not in options]
    for role in role_names():
        options = role_options(role)
        table = ROLE_KINDS.get(role, {})
        problems += ["role %s: variable %s" % (role, v) for v in options if v not in table]
        problems += ["role %s: %s is gone" % (role, v) for v in table if v not in options]
    return problems


def kinds_without_bad_values():
    used = set()
    for table in list(MODULE_KINDS.values()) + list(ROLE_KINDS.values()):
        for option in table:
            used.update(kind for kind, dummy in variants(table, option))
    return sorted(k for k in used if not BAD.get(k) or k not in CLASS)


def good_args(module, extra=None):
    """Arguments that pass the module's checks, with ``extra`` (a variant's arguments)."""
    args = dict(GOOD_ARGS[module])
    args.update(extra or {})
    if module == "dm_thinpool" and args["backend"] == "dm":
        args.update(GOOD_DM_ARGS)
        args.pop("vg", None)
    if module == "dm_thinpool_repair" and args["backend"] == "lvm":
        args.update(vg=args.get("vg") or "bad-input-vg", name=args.get("name") or "thinpool")
        args.pop("metadata_file", None)
    if module == "dm_thinpool_info" and args["backend"] == "dm":
        args.update(name=GOOD_DM_ARGS["name"])
        args.pop("vg", None)
    return args


def good_variants(module):
    """good_args of the module and of each variant its table names, once each."""
    table = MODULE_KINDS[module]
    extras = [{}] + [extra for option in sorted(table)
                     for dummy, extra in variants(table, option)]
    seen = []
    for extra in extras:
        args = good_args(module, extra)
        if args not in seen:
            seen.append(args)
    return seen


def _module_args(module, option, value, extra):
    args = good_args(module, extra)
    if argument_spec(module).get(option, {}).get("type") == "list":
        value = [value]
    if "." in option:
        parent, sub = option.split(".")
        if argument_spec(module)[parent].get("type") == "list":     # a list of entries
            args[parent] = [dict(args[parent][0], **{sub: value})]
        else:
            args[parent] = {"driver": "devicemapper", sub: value}
    else:
        args[option] = value
    return args


def module_rows():
    rows = []
    for module in module_names():
        table = MODULE_KINDS.get(module, {})
        for option in module_options(module):
            for kind, extra in variants(table, option):
                for value in BAD.get(kind, []):
                    rows.append(ModuleRow(module, option, kind, value,
                                          _module_args(module, option, value, extra)))
    return rows


def role_rows():
    rows = []
    for role in role_names():
        table = ROLE_KINDS.get(role, {})
        options = role_options(role)
        for variable in sorted(options):
            for kind, dummy in variants(table, variable):
                for value in BAD.get(kind, []):
                    wanted = dict(GOOD_ROLE_VARS.get(role, {}))
                    wanted[variable] = [value] if options[variable]["type"] == "list" else value
                    rows.append(RoleRow(role, variable, kind, value, wanted))
    return rows


def named(module, option):
    """How a module's message names an option: ``files[0].path`` for a suboption of a list."""
    if "." in option:
        parent, sub = option.split(".")
        if argument_spec(module)[parent].get("type") == "list":
            return "%s[0].%s" % (parent, sub)
    return option


def row_id(row):
    head = row.module if isinstance(row, ModuleRow) else row.role
    name = row.option if isinstance(row, ModuleRow) else row.variable
    return "%s-%s-%r" % (head, name, row.value)


def a_few(rows, per_option=2):
    """Up to ``per_option`` rows of each option (or variable), the bad values of a kind taken in
    turn across options so that every bad value is tried somewhere: the guest sweep's share."""
    turn = collections.Counter()
    chosen = []
    grouped = collections.OrderedDict()
    for row in rows:
        grouped.setdefault(row[:3], []).append(row)
    for group in grouped.values():
        kind = group[0].kind
        for n in range(min(per_option, len(group))):
            chosen.append(group[(turn[kind] + n) % len(group)])
        turn[kind] += per_option
    return chosen
