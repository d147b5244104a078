# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage options given to dockerd as flags, and the file each comes from. dockerd refuses to
start when a directive is given both as a flag and in daemon.json ("the following directives are
specified both as a flag and in the configuration file"), so a role that writes storage-driver
and storage-opts into daemon.json must first find them in:

- the unit's ``ExecStart=`` (docker.service or a drop-in such as override.conf), and
- the variables it expands, from ``Environment=`` or an ``EnvironmentFile=``: Debian's
  ``DOCKER_OPTS`` in /etc/default/docker, RHEL's ``DOCKER_STORAGE_OPTIONS`` in
  /etc/sysconfig/docker-storage (written by container-storage-setup).

Pure: it reads ``systemctl cat`` output (host/systemd.py) and the environment files through a
function it is given.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

# dockerd's flags for what the collection sets in daemon.json (storage-driver, storage-opts)
STORAGE_FLAGS = ("--storage-driver", "--storage-opt", "-s")
VARIABLE_RE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def unit_files(cat_text):
    """``systemctl cat UNIT`` -> [(path, [lines])], in the order systemd reads them (the unit,
    then its drop-ins); each file starts with a ``# /path`` line."""
    files = []
    for line in cat_text.splitlines():
        if line.startswith("# /"):
            files.append((line[2:].strip(), []))
        elif files:
            files[-1][1].append(line.strip())
    return files


def _setting(line, key):
    if line.startswith(key + "="):
        return line[len(key) + 1:].strip()
    return None


def service_settings(cat_text):
    """The ExecStart that counts (an empty ``ExecStart=`` resets the list; the last one left
    runs), with its file, and the environment files and ``Environment=`` assignments."""
    exec_start, env_files, environment = None, [], {}
    for path, lines in unit_files(cat_text):
        section = None
        for line in lines:
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]":
                continue
            value = _setting(line, "ExecStart")
            if value is not None:
                exec_start = (path, value) if value else None
            value = _setting(line, "EnvironmentFile")
            if value:
                env_files.append(value.lstrip("-"))
            value = _setting(line, "Environment")
            if value:
                for word in shlex.split(value):
                    if "=" in word:
                        key, val = word.split("=", 1)
                        environment[key] = (val, path)
    return exec_start, env_files, environment


def parse_env_file(text):
    """KEY=VALUE lines of an environment file (quotes removed, comments skipped)."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.replace("export ", "").strip()
        try:
            words = shlex.split(value, comments=True)
        except ValueError:
            words = [value]
        values[key] = " ".join(words)
    return values


def _is_flag(word, flag):
    if flag == "-s":
        return word == "-s" or (word.startswith("-s") and not word.startswith("--"))
    return word == flag or word.startswith(flag + "=")


def _flags_in(words):
    """Each storage flag in ``words``, with its value when that is the next word."""
    found = []
    for index, word in enumerate(words):
        for flag in STORAGE_FLAGS:
            if _is_flag(word, flag):
                joined = word if ("=" in word or len(word) > len(flag)) or \
                    index + 1 >= len(words) else "%s %s" % (word, words[index + 1])
                found.append(joined)
    return found


def storage_flags(cat_text, read_file):
    """[{"flag", "file", "variable"}] for each storage flag dockerd's unit gives it: ``file`` is
    where the flag is written, ``variable`` the variable it comes through (None when it is in
    ExecStart itself).
    ``read_file(path)`` gives a file's text, or None when it is missing."""
    exec_start, env_files, environment = service_settings(cat_text)
    if exec_start is None:
        return []
    unit_path, command = exec_start
    values = dict(environment)
    for path in env_files:
        for key, value in parse_env_file(read_file(path)).items():
            values[key] = (value, path)
    found = []
    bare = VARIABLE_RE.sub(" ", command.lstrip("-@:+!"))
    for flag in _flags_in(shlex.split(bare)):
        found.append({"flag": flag, "file": unit_path, "variable": None})
    for match in VARIABLE_RE.finditer(command):
        name = match.group(1) or match.group(2)
        if name in values:
            value, path = values[name]
            for flag in _flags_in(shlex.split(value)):
                found.append({"flag": flag, "file": path, "variable": name})
    return found
