"""The collection in an execution environment, offline: ``ansible-builder create`` makes the build
context from docs/execution-environment.yml (the example users copy), and the two steps of the
image build that concern the collection run here as they would in the image: ansible-galaxy
installs it from the context's requirements, and the context's own introspect script reads what
it asks for (meta/execution-environment.yml). No image is built: base images cannot be fetched
here."""

import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
VERSION = yaml.safe_load(open(os.path.join(REPO, "galaxy.yml")))["version"]
TARBALL = "devmapper-storage-%s.tar.gz" % VERSION


def run(argv, cwd, **env):
    # an empty ansible.cfg: the checkout's own (collections_path = .build) would make
    # ansible-galaxy take the collection for installed already
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], **env)
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, (argv, proc.stdout)
    return proc.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    path = tmp_path_factory.mktemp("ee")
    config = path / "ansible.cfg"
    config.write_text("")
    run(["ansible-galaxy", "collection", "build", "--output-path", str(path), REPO], REPO,
        ANSIBLE_CONFIG=str(config))
    shutil.copy(os.path.join(REPO, "docs", "execution-environment.yml"), str(path))
    return path


def introspect(context, collections):
    script = os.path.join(str(context), "_build", "scripts", "introspect.py")
    out = run([sys.executable, script, "introspect", str(collections)], str(collections))
    return yaml.safe_load(out)


def test_the_example_makes_a_context_whose_build_installs_the_collection(work):
    assert (work / TARBALL).exists(), "docs/execution-environment.yml names another version"
    run(["ansible-builder", "create", "-f", "execution-environment.yml", "--context", "ctx"],
        str(work))
    build = work / "ctx" / "_build"
    assert (build / "collections" / TARBALL).exists()
    requirements = yaml.safe_load((build / "requirements.yml").read_text())
    # the galaxy stage: /build in the image is the context's _build
    for entry in requirements["collections"]:
        entry["name"] = entry["name"].replace("/build/", str(build) + "/")
    local = work / "requirements-here.yml"
    local.write_text(yaml.safe_dump(requirements))
    run(["ansible-galaxy", "collection", "install", "-r", str(local), "-p", str(work / "cols")],
        str(work), ANSIBLE_CONFIG=str(work / "ansible.cfg"))
    installed = work / "cols" / "ansible_collections" / "devmapper" / "storage"
    assert (installed / "meta" / "execution-environment.yml").exists()
    assert (installed / "plugins" / "modules" / "dm_thinpool.py").exists()
    # the builder stage: what the collection adds to ansible-core (nothing)
    assert introspect(work / "ctx", work / "cols") == {"python": [], "system": []}


def test_a_source_checkout_asks_for_its_own_needs_not_the_developers_tools(work, tmp_path):
    """Without meta/execution-environment.yml, ansible-builder reads requirements.txt at the
    collection's root: in a checkout (a collection installed from git), the developers' tools."""
    if not (work / "ctx").exists():
        run(["ansible-builder", "create", "-f", "execution-environment.yml", "--context", "ctx"],
            str(work))
    checkout = tmp_path / "ansible_collections" / "devmapper" / "storage"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(REPO, name)
        if os.path.isfile(source) and not os.path.islink(source):
            target = checkout / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, str(target))
    assert introspect(work / "ctx", tmp_path) == {"python": [], "system": []}
    (checkout / "meta" / "execution-environment.yml").unlink()
    asked = introspect(work / "ctx", tmp_path)["python"]
    # (ansible-builder leaves out a few tools it knows, molecule and pytest among them)
    assert any(line.startswith("antsibull-changelog==") for line in asked), asked
