"""What a lab tells its users: an Ansible inventory and an ssh config for its guests."""

import json
import os


def write(lab):
    """An Ansible inventory and an ssh config for what the lab holds."""
    hosts = {}
    groups = {}
    for guest in lab.sorted_guests():
        hosts[guest.name] = {
            "ansible_host": "127.0.0.1", "ansible_port": guest.port,
            "ansible_ssh_private_key_file": guest.key,
            "testhost_address": guest.address, "testhost_suite": guest.suite,
            "testhost_lvm_devicesfile": guest.lvm_devicesfile,
            "testhost_disks": [{"device": d["device"], "size": d["size"]} for d in guest.disks],
        }
        for group in guest.groups:
            groups.setdefault(group, {"hosts": {}})["hosts"][guest.name] = None
    inventory = {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no "
                                       "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_pipelining": True,
            "testhost_lab": lab.name,
        },
        "hosts": hosts,
        "children": groups,
    }}
    atomic_write(os.path.join(lab.dir, "inventory.json"), json.dumps(inventory, indent=1))
    lines = []
    for guest in lab.sorted_guests():
        lines += ["Host %s" % guest.name, "  HostName 127.0.0.1", "  Port %s" % guest.port,
                  "  User root", "  IdentityFile %s" % guest.key, "  IdentitiesOnly yes",
                  "  StrictHostKeyChecking no", "  UserKnownHostsFile /dev/null",
                  "  LogLevel ERROR", ""]
    atomic_write(os.path.join(lab.dir, "ssh_config"), "\n".join(lines))


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.rename(tmp, path)
