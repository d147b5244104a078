"""Saved guests: a guest's copy-on-write root and disks, kept after a clean power-off, from which
new guests start where it stood instead of repeating the work that put it there (a converge that
is not what a test is about)."""

import fcntl
import json
import os
import shutil
import subprocess
import tempfile

from . import paths

MANIFEST = "state.json"


class StateError(RuntimeError):
    pass


def states_dir():
    return os.path.join(paths.home(), "states")


def _copy_sparse(source, dest):
    # the root's copy-on-write layer and the disks are mostly holes: keep them holes
    subprocess.run(["cp", "--sparse=always", source, dest], check=True)


def save(lab, guest, directory):
    """Power ``guest`` off cleanly, keep its root layer and disks in ``directory`` and boot it
    again on its own files."""
    lab.stop_guest(guest, clean=True)
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".saving-", dir=parent)
    try:
        _copy_sparse(os.path.join(lab.guest_dir(guest), "root.cow"),
                     os.path.join(work, "root.cow"))
        disks = []
        for disk in guest.disks:
            name = "disk-%s.img" % disk["device"][-1]
            _copy_sparse(disk["path"], os.path.join(work, name))
            disks.append({"device": disk["device"], "size": disk["size"], "file": name})
        with open(os.path.join(work, MANIFEST), "w") as handle:
            json.dump({"image": guest.image, "suite": guest.suite, "mem": guest.mem,
                       "lvm_devicesfile": guest.lvm_devicesfile, "disks": disks}, handle,
                      indent=1)
        if os.path.exists(directory):
            shutil.rmtree(directory)
        os.rename(work, directory)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    lab.boot(guest)
    lab.wait_ready([guest])


def load(directory):
    try:
        with open(os.path.join(directory, MANIFEST)) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise StateError("no saved guest in %s: %s" % (directory, exc))


def copy_into(directory, guest_dir):
    """The saved root layer and disks, copied for a new guest; returns its disk records."""
    manifest = load(directory)
    os.makedirs(guest_dir, exist_ok=True)
    _copy_sparse(os.path.join(directory, "root.cow"), os.path.join(guest_dir, "root.cow"))
    disks = []
    for disk in manifest["disks"]:
        path = os.path.join(guest_dir, disk["file"])
        _copy_sparse(os.path.join(directory, disk["file"]), path)
        disks.append({"device": disk["device"], "path": path, "size": disk["size"]})
    return disks


class Saved(object):
    """A saved guest made at most once per key on this machine, whoever asks first (pytest-xdist
    workers, several runs): the others wait for it and use it."""

    def __init__(self, key):
        self.directory = os.path.join(states_dir(), key)

    def get(self, make):
        """The state's directory; ``make(directory)`` saves a guest there if none is saved yet."""
        os.makedirs(states_dir(), exist_ok=True)
        with open(self.directory + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(os.path.join(self.directory, MANIFEST)):
                make(self.directory)
        return self.directory
