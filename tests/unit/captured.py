"""Access to the real command outputs recorded by scripts/capture-fixtures."""

import json
import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def load(state):
    with open(os.path.join(FIXTURES, state + ".json")) as handle:
        return json.load(handle)


def outputs(state, command):
    """Every record of ``state`` that ``output`` would match, in the order they were captured."""
    return [r for r in load(state)["commands"]
            if r["command"] == command or r["command"].startswith(command + " ")]


def output(state, command):
    """The record of the first command of ``state`` that is exactly ``command`` or starts with it
    followed by a space."""
    for record in load(state)["commands"]:
        if record["command"] == command or record["command"].startswith(command + " "):
            return record
    raise KeyError("fixture %s has no command %r" % (state, command))
