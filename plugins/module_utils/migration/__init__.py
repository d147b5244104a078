# -*- coding: utf-8 -*-
# Copyright (c) devmapper.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A migration of Docker's storage (module docker_storage_migration), in parts:

- ``state``: the state file's content, every field and transition;
- ``inventory``: what Docker's own JSON and the host's files say (pure);
- ``host``: everything done to the host;
- ``checks``: ``status`` and ``preflight`` (read only);
- ``steps``: the registry of the steps, in order, each a planner that returns what it would do;
- ``rollback``: putting the host back as it was;
- ``run``: the module's run function, with the one check-mode gate.
"""
