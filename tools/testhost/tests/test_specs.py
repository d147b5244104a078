import pytest

from testhost import cli
from testhost import image
from testhost import lab as lab_mod


@pytest.mark.parametrize("text,expected", [
    ("4G", 4 << 30), ("512M", 512 << 20), ("64k", 64 << 10), ("1T", 1 << 40), ("4096", 4096),
    (" 2g ", 2 << 30),
])
def test_parse_size(text, expected):
    assert lab_mod.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "4GB", "-1G", "1.5G", "G", "4 G"])
def test_parse_size_rejects(text):
    with pytest.raises(lab_mod.LabError, match="bad disk size"):
        lab_mod.parse_size(text)


@pytest.mark.parametrize("text,expected", [
    ("g1", {"name": "g1", "disks": [], "groups": []}),
    ("web:4G,1G", {"name": "web", "disks": ["4G", "1G"], "groups": []}),
    ("db:8G@direct_lvm,prod", {"name": "db", "disks": ["8G"], "groups": ["direct_lvm", "prod"]}),
    ("t@loop_lvm", {"name": "t", "disks": [], "groups": ["loop_lvm"]}),
])
def test_parse_guest_spec(text, expected):
    spec = cli.parse_guest_spec(text, "1G")
    assert {k: spec[k] for k in expected} == expected
    assert spec["mem"] == "1G"
    assert (spec["suite"], spec["lvm_devicesfile"]) == ("bookworm", False)


@pytest.mark.parametrize("text,expected", [
    ("old:2G%bullseye", {"name": "old", "disks": ["2G"], "suite": "bullseye",
                         "lvm_devicesfile": False}),
    ("new:2G,1G@loop_lvm%trixie+devicesfile", {"disks": ["2G", "1G"], "groups": ["loop_lvm"],
                                                 "suite": "trixie", "lvm_devicesfile": True}),
    ("b%bookworm+devicesfile", {"name": "b", "suite": "bookworm", "lvm_devicesfile": True}),
])
def test_guest_spec_names_a_release(text, expected):
    spec = cli.parse_guest_spec(text, "1G")
    assert {k: spec[k] for k in expected} == expected


@pytest.mark.parametrize("text,message", [
    ("x%buster", "unknown release 'buster'"),
    ("x%trixie+rhel", "unknown guest option 'rhel'"),
])
def test_guest_spec_refuses_unknown_releases_and_options(text, message):
    with pytest.raises((lab_mod.LabError, image.ImageError), match=message):
        cli.parse_guest_spec(text, "1G")


def test_devices_file_is_refused_where_lvm_has_none(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTHOST_HOME", str(tmp_path))
    lab = lab_mod.Lab("unit")
    with pytest.raises(lab_mod.LabError, match="bullseye does not have"):
        lab.add_guest("a", [], suite="bullseye", lvm_devicesfile=True)
    assert lab.add_guest("b", [], suite="trixie", lvm_devicesfile=True).lvm_devicesfile


def test_each_release_has_its_own_recipe_and_image():
    hashes = {image.recipe_hash(suite=suite) for suite in image.SUITES}
    assert len(hashes) == len(image.SUITES)
    assert image.recipe("trixie")["suite"] == "trixie"


@pytest.mark.parametrize("name", ["G1", "1g", "a_b", "a.b", "x" * 25, ""])
def test_bad_names_are_refused(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TESTHOST_HOME", str(tmp_path))
    with pytest.raises(lab_mod.LabError, match="bad lab name"):
        lab_mod.Lab(name)


def test_guest_disks_and_addresses_are_allocated_per_guest(tmp_path, monkeypatch):
    monkeypatch.setenv("TESTHOST_HOME", str(tmp_path))
    lab = lab_mod.Lab("unit")
    first = lab.add_guest("a", ["1M", "2M"])
    second = lab.add_guest("b", [])
    assert first.address != second.address
    assert [d["device"] for d in first.disks] == ["/dev/ubdb", "/dev/ubdc"]
    assert [d["size"] for d in first.disks] == [1 << 20, 2 << 20]
    assert lab.add_guest("a", ["9G"]) is first          # an existing guest is not re-made
    with pytest.raises(lab_mod.LabError, match="at most"):
        lab.add_guest("c", ["1M"] * 16)
