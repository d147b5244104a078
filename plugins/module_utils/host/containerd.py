# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""containerd's command line: the only place its command lines are built. ``config_dump`` is
containerd's own reading of a configuration file with its imports (the one TOML parser every
target has); ``major_version`` says which schema a new file gets. Used by: containerd_config."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.devmapper.storage.plugins.module_utils.runners import (
    ModuleError,
    ToolRunner,
)

CONTAINERD = "containerd"


def parse_major_version(text):
    """The major version in ``containerd --version`` (``containerd github.com/containerd/containerd
    1.6.20~ds1 1.6.20~ds1-1+deb12u3``; 2.x prints ``.../containerd/v2 v2.0.2 ...``)."""
    match = re.search(r"\sv?(\d+)\.\d+\.\d+", text or "")
    return int(match.group(1)) if match else None


class Containerd(object):
    def __init__(self, module):
        self.module = module
        self.tool = ToolRunner(module, CONTAINERD)

    def installed(self):
        return self.module.get_bin_path(CONTAINERD) is not None

    def config_dump(self, path):
        """(ok, dump or containerd's error) of the configuration file at ``path``."""
        rc, out, err = self.tool.run(["--config", path, "config", "dump"], check=False)
        if rc != 0:
            return False, (err or out).strip()
        return True, out

    def major_version(self):
        rc, out, err = self.tool.run(["--version"], check=False)
        major = parse_major_version(out)
        if rc != 0 or major is None:
            raise ModuleError("containerd --version said %r" % (out or err).strip())
        return major
