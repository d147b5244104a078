"""Every module's documentation as ``ansible-doc`` renders it, with the shared doc fragment
(plugins/doc_fragments/common.py) merged in: the authors and the attributes' support come from
the fragment, each module's own check/diff descriptions and any lesser support win over it."""

import glob
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MODULES = sorted(os.path.basename(p)[:-3]
                 for p in glob.glob(os.path.join(REPO, "plugins", "modules", "*.py")))


@pytest.fixture(scope="module")
def docs():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run(["ansible-doc", "--json"] + ["devmapper.storage." + m for m in MODULES],
                          cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300, check=False)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    return dict((name.split(".")[-1], entry["doc"]) for name, entry in json.loads(proc.stdout).items())


def test_every_module_renders_with_the_fragment(docs):
    assert sorted(docs) == MODULES
    for name, doc in docs.items():
        assert doc["author"] == ["devmapper.storage maintainers (@devmapper)"], name
        attributes = doc["attributes"]
        assert attributes["platform"]["platforms"] == "posix", name
        assert attributes["check_mode"]["support"] == "full", name
        assert not attributes["check_mode"]["description"].startswith("Says what would change"), \
            "%s: check mode is described by the fragment alone" % name


def test_a_module_states_lesser_support_over_the_fragment(docs):
    assert docs["dm_thinpool"]["attributes"]["diff_mode"]["support"] == "partial"
    assert docs["docker_engine_info"]["attributes"]["diff_mode"]["support"] == "none"
    assert docs["loop_pool"]["attributes"]["diff_mode"]["support"] == "full"


@pytest.mark.parametrize("module", ["dm_thinpool", "loop_pool", "dm_snapshot"])
def test_read_only_queries_are_info_modules(docs, module):
    # issue 16: the state=info of each module moved to MODULE_info, which changes nothing
    assert "info" not in docs[module]["options"]["state"]["choices"]
    info = docs[module + "_info"]
    assert "state" not in info["options"] and "lock_timeout" not in info["options"]
    assert info["attributes"]["diff_mode"]["support"] == "none"
