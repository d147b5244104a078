"""Modules stay documentation, an argument spec and a short run function; no plugin file grows
past what one reader can hold.

A module's code lines are counted on its syntax tree: every line a statement spans, less the
DOCUMENTATION, EXAMPLES and RETURN blocks, docstrings, the argument_spec given to AnsibleModule,
and blank or comment-only lines."""

import ast
import os

import pytest

PLUGINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "plugins")
MODULES = os.path.join(PLUGINS, "modules")
MAX_MODULE_CODE_LINES = 40
MAX_FILE_LINES = 400
DOC_BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def spanned(node):
    return set(range(node.lineno, node.end_lineno + 1))


def is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and \
        isinstance(node.value.value, str)


def code_lines(source):
    tree = ast.parse(source)
    lines = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and \
                any(getattr(target, "id", None) in DOC_BLOCKS for target in node.targets):
            continue
        lines |= spanned(node)
    for node in ast.walk(tree):
        if is_docstring(node):
            lines -= spanned(node)
        elif isinstance(node, ast.keyword) and node.arg == "argument_spec":
            lines -= spanned(node.value)
    text = source.splitlines()
    return sorted(n for n in lines
                  if text[n - 1].strip() and not text[n - 1].strip().startswith("#"))


def module_files():
    return sorted(name for name in os.listdir(MODULES) if name.endswith(".py"))


def plugin_files():
    for directory, dirs, names in os.walk(PLUGINS):
        dirs.sort()
        for name in sorted(names):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(directory, name), PLUGINS)


@pytest.mark.parametrize("name", list(module_files()))
def test_module_code_is_short(name):
    with open(os.path.join(MODULES, name)) as handle:
        count = len(code_lines(handle.read()))
    assert count <= MAX_MODULE_CODE_LINES, \
        "%s has %d code lines; its logic belongs in module_utils" % (name, count)


@pytest.mark.parametrize("relpath", list(plugin_files()))
def test_no_plugin_file_is_too_long(relpath):
    with open(os.path.join(PLUGINS, relpath)) as handle:
        count = len(handle.read().splitlines())
    assert count <= MAX_FILE_LINES, "%s has %d lines" % (relpath, count)


def test_the_count_leaves_out_documentation_and_the_argspec():
    source = ('DOCUMENTATION = r"""\nmodule: x\n"""\n\n'
              'import os\n\n\n'
              'def run(module):\n    """Docstring."""\n    # a comment\n    return {}\n\n\n'
              'def main():\n    module = AnsibleModule(\n        argument_spec=dict(\n'
              '            a=dict(type="str"),\n        ),\n        supports_check_mode=True,\n'
              '    )\n')
    # import, def run, return, def main, module = AnsibleModule(, supports_check_mode, )
    assert len(code_lines(source)) == 7
