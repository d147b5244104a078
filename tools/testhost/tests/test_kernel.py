"""Which user-mode Linux kernel testhost fetches, read from Debian's package indexes (stanzas
captured from the mirror on 2026-12-02)."""

import os

import pytest

from testhost import kernel

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def stanza_text(suite):
    with open(os.path.join(FIXTURES, "packages-%s-user-mode-linux.txt" % suite)) as handle:
        return handle.read()


def index_with_neighbours(suite):
    # the package among others, as in a whole Packages file
    return ("Package: user-mode-linux-doc\nVersion: 9.9um1\nFilename: pool/x.deb\n\n"
            + stanza_text(suite) + "\nPackage: usbutils\nVersion: 1:018-2\n")


def test_the_stanza_of_the_package_is_read_with_its_fields():
    stanza = kernel.parse_packages(index_with_neighbours("trixie"), "user-mode-linux")
    assert stanza["Version"] == "6.12um1+b22"
    assert stanza["Filename"] == "pool/main/u/user-mode-linux/user-mode-linux_6.12um1+b22_amd64.deb"
    assert len(stanza["SHA256"]) == 64
    assert kernel.parse_packages(index_with_neighbours("trixie"), "linux-image-amd64") is None


@pytest.mark.parametrize("version,expected", [
    ("6.12um1+b22", (6, 12)), ("7.2um1", (7, 2)), ("6.1um4+b13", (6, 1)), ("1:6.13um2", (6, 13)),
])
def test_upstream_version(version, expected):
    assert kernel.upstream_version(version) == expected


def test_a_kernel_older_than_6_13_is_passed_over_for_the_next_suite():
    suite, stanza = kernel.choose_kernel([("trixie", index_with_neighbours("trixie")),
                                          ("forky", index_with_neighbours("forky"))])
    assert (suite, stanza["Version"]) == ("forky", "7.2um1")


def test_no_suite_with_a_new_enough_kernel_says_what_it_found():
    with pytest.raises(kernel.KernelError, match=r"6\.13 or later.*trixie 6\.12um1\+b22"):
        kernel.choose_kernel([("trixie", index_with_neighbours("trixie")),
                              ("sid", "Package: usbutils\nVersion: 1\n")])
