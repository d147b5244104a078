import pytest

from ansible_collections.devmapper.storage.plugins.module_utils import sizes as s


@pytest.mark.parametrize("text,expected", [
    ("10G", 10 << 30), ("512M", 512 << 20), ("64k", 64 << 10), ("2048s", 2048 * 512),
    ("1.5G", 3 << 29), ("100", 100), ("100B", 100), ("1GiB", 1 << 30), ("2T", 2 << 40),
    (4096, 4096), (" 8 M ", 8 << 20),
])
def test_parse_size(text, expected):
    assert s.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "G", "-1G", "10X", "1.3s", "95%VG", True, -5])
def test_parse_size_refuses_with_the_parameter_name(text):
    with pytest.raises(s.SizeError, match="data_size"):
        s.parse_size(text, what="data_size")


@pytest.mark.parametrize("text,expected", [
    ("95%VG", (95.0, "VG")), ("40%free", (40.0, "FREE")), ("100%PVS", (100.0, "PVS")),
    ("10G", None),
])
def test_parse_percent(text, expected):
    assert s.parse_percent(text) == expected


@pytest.mark.parametrize("text", ["0%VG", "101%FREE"])
def test_parse_percent_bounds(text):
    with pytest.raises(s.SizeError):
        s.parse_percent(text)


def test_percent_to_extents_rounds_down_like_lvcreate():
    vg = {"extent_count": 511, "free_count": 100}
    assert s.percent_to_extents(95, "VG", vg) == 485
    assert s.percent_to_extents(1, "VG", vg) == 5
    assert s.percent_to_extents(40, "FREE", vg) == 40


def test_rounding_and_sectors():
    assert s.round_up(5 << 20, 4 << 20) == 8 << 20
    assert s.round_down(5 << 20, 4 << 20) == 4 << 20
    assert s.to_sectors(1 << 20) == 2048
    with pytest.raises(s.SizeError, match="sectors"):
        s.to_sectors(1000)


@pytest.mark.parametrize("sectors,ok", [(128, True), (1024, True), (64, False), (200, False),
                                        (2097152, True), (4194304, False)])
def test_block_size_rules(sectors, ok):
    if ok:
        assert s.validate_block_sectors(sectors) == sectors
    else:
        with pytest.raises(s.SizeError, match="64K"):
            s.validate_block_sectors(sectors)


@pytest.mark.parametrize("value,ok", [(0, True), ((1 << 24) - 1, True), (1 << 24, False),
                                      (-1, False), ("3", False), (True, False)])
def test_thin_ids_are_24_bit(value, ok):
    if ok:
        assert s.validate_thin_id(value) == value
    else:
        with pytest.raises(s.SizeError, match="24-bit"):
            s.validate_thin_id(value)


def test_human():
    assert s.human(512 << 20) == "512M"
    assert s.human(3 << 29) == "1536M"
    assert s.human(1000) == "1000B"
