# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files and directories: checksums, sizes, free space, and writes that survive a power cut.

Used by: converged (checksums of the files the roles manage), lvm_thinpool_profile (the profile
file), docker_storage_migration (backups, manifests and its state file).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import shutil
import stat


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_if_file(path):
    """The checksum of regular file ``path``, or None when there is none."""
    return sha256_file(path) if os.path.isfile(path) else None


def size_if_exists(path):
    return os.stat(path).st_size if os.path.exists(path) else None


def read_text(path):
    """The content of ``path``, or None when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def tree_checksums(root, hash_limit=None, skip=()):
    """{relative path: checksum} of every regular file and symlink under ``root``, but those
    under the top-level directories named in ``skip``."""
    sums = {}
    for directory, dirs, files in os.walk(root):
        if directory == root:
            dirs[:] = [d for d in dirs if d not in skip]
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(directory, d))]:
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                sums[rel] = "symlink:" + os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                if hash_limit is not None and info.st_size > hash_limit:
                    sums[rel] = "size:%d" % info.st_size
                else:
                    sums[rel] = "sha256:" + sha256_file(path)
    return sums


def tree_bytes(root):
    total = 0
    for directory, dummy, files in os.walk(root):
        for name in files:
            info = os.lstat(os.path.join(directory, name))
            if stat.S_ISREG(info.st_mode):
                total += info.st_blocks * 512
    return total


def existing_ancestor(path):
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return path


def mount_point(path):
    """The mount point of the filesystem that holds ``path`` (or would hold it)."""
    path = os.path.realpath(existing_ancestor(path))
    dev = os.stat(path).st_dev
    while path != "/":
        parent = os.path.dirname(path)
        if os.stat(parent).st_dev != dev:
            return path
        path = parent
    return "/"


def free_bytes(path):
    info = os.statvfs(existing_ancestor(path))
    return info.f_bavail * info.f_frsize


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_path(path):
    """Remove a directory tree, or a file or symlink; nothing there is not an error."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def write_durably(path, text, dir_mode=0o755, rename=os.rename):
    """Temp file, fsync, atomic rename (``rename``: AnsibleModule.atomic_move keeps SELinux
    contexts), fsync of the directory: after a power cut the file is either the old one or the
    new one, whole."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, dir_mode)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    rename(tmp, path)
    fsync_path(directory)


def write_json_durably(module, path, data):
    write_durably(path, json.dumps(data, indent=1, sort_keys=True), 0o700, module.atomic_move)


def remove_durably(path):
    """Remove file ``path`` (nothing there is not an error) and sync its directory."""
    if os.path.lexists(path):
        os.unlink(path)
        fsync_path(os.path.dirname(path))


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)
