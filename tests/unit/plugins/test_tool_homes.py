"""Each host tool's command line is built in one module_utils file only (its home, in
plugins/module_utils/host/), so a fix to how the collection reads a tool lands once.

Read from the code's syntax tree: outside its home, a tool's name may not be handed to ToolRunner,
get_bin_path or run_command, may not start an argument list, and may not name an attribute (which
is how a runner of that tool used to be kept and passed around: ``io.dmsetup``)."""

import ast
import os

import pytest

PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plugins")
HOST = os.path.join("module_utils", "host")
HOMES = {
    "lvs": os.path.join(HOST, "lvm.py"),
    "vgs": os.path.join(HOST, "lvm.py"),
    "pvs": os.path.join(HOST, "lvm.py"),
    "blkid": os.path.join(HOST, "blkid.py"),
    "lsblk": os.path.join(HOST, "blkid.py"),
    "findmnt": os.path.join(HOST, "blkid.py"),
    "dmsetup": os.path.join(HOST, "dm.py"),
    "thin_ls": os.path.join(HOST, "dm.py"),
    "thin_check": os.path.join(HOST, "dm.py"),
    "thin_dump": os.path.join(HOST, "dm.py"),
    "thin_repair": os.path.join(HOST, "dm.py"),
    "losetup": os.path.join(HOST, "loop.py"),
    "docker": os.path.join(HOST, "docker.py"),
    "dockerd": os.path.join(HOST, "docker.py"),
    "systemctl": os.path.join(HOST, "systemd.py"),
}
RUNNING_CALLS = ("ToolRunner", "get_bin_path", "run_command")


def python_files():
    for directory, dirs, names in os.walk(PLUGINS):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                yield os.path.relpath(path, PLUGINS), path


def call_name(node):
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def constant(node):
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def tool_uses(tree):
    """(line, tool) for every place the tree builds or keeps a command line of a tool."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and call_name(node) in RUNNING_CALLS:
            for arg in node.args:
                if constant(arg) in HOMES:
                    found.append((node.lineno, constant(arg)))
        elif isinstance(node, (ast.List, ast.Tuple)) and node.elts and \
                constant(node.elts[0]) in HOMES:
            found.append((node.lineno, constant(node.elts[0])))
        elif isinstance(node, ast.Attribute) and node.attr in HOMES:
            found.append((node.lineno, node.attr))
    return found


def test_the_homes_exist():
    for home in set(HOMES.values()):
        assert os.path.isfile(os.path.join(PLUGINS, home)), home


@pytest.mark.parametrize("relpath,path", list(python_files()))
def test_no_tool_is_run_outside_its_home(relpath, path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    strays = ["line %d: %s (its home is plugins/%s)" % (line, tool, HOMES[tool])
              for line, tool in tool_uses(tree) if HOMES[tool] != relpath]
    assert strays == []


def test_the_check_sees_the_old_ways_of_running_a_tool():
    old = ('runner = ToolRunner(module, "vgs")\n'
           'Action(io.dmsetup, ["remove", name], "why")\n'
           'module.run_command(["losetup", "-d", loop])\n'
           'module.get_bin_path("blkid")\n')
    assert sorted(tool for dummy, tool in tool_uses(ast.parse(old))) == [
        "blkid", "dmsetup", "losetup", "vgs"]
