"""thin_metadata on a pool's metadata captured on a guest (scripts/lib/capture_thin_metadata.py):
199 thin ids, some snapshots and three deleted, in a device-details tree with an internal node;
thin_ls's list of the same metadata is the answer. The superblock with needs_check set is the one
the kernel read as needs_check (ro) in the same capture, and thin_check cleared."""

import pytest

from captured import load, output
from ansible_collections.devmapper.storage.plugins.module_utils import thin_metadata as tm

CAPTURE = load("thin_metadata")


def blocks():
    return dict((int(n), bytes.fromhex(h)) for n, h in CAPTURE["blocks"].items())


def thin_ls_ids():
    return sorted(int(w) for w in output("thin_metadata", "thin_ls")["stdout"].split()[1:])


def test_the_committed_ids_are_thin_ls_s():
    held = blocks()
    ids = tm.committed_thin_ids(held.__getitem__)
    assert ids == thin_ls_ids() and len(ids) == 199
    assert 5 not in ids and 299 not in ids and 1 in ids


def test_the_tree_has_an_internal_node_and_its_leaves():
    held = blocks()
    root = tm.parse_superblock(held[0])["details_root"]
    keys, children = tm._node(held[root], root)
    assert children is not None and len(children) >= 2
    assert all(tm._node(held[c], c)[1] is None for c in children)


def test_a_changed_byte_or_a_block_in_the_wrong_place_is_not_taken():
    held = blocks()
    root = tm.parse_superblock(held[0])["details_root"]
    leaf = [n for n in held if n not in (0, root)][0]
    damaged = dict(held)
    damaged[leaf] = held[leaf][:100] + bytes([held[leaf][100] ^ 1]) + held[leaf][101:]
    with pytest.raises(tm.MetadataError):
        tm.device_ids(damaged.__getitem__, root)
    # a committed tree that does not check out is an error, not a guess
    with pytest.raises(tm.MetadataError):
        tm.committed_thin_ids(damaged.__getitem__)
    moved = dict(held)
    moved[leaf] = held[root]                    # a valid node, of another block
    with pytest.raises(tm.MetadataError):
        tm.device_ids(moved.__getitem__, root)


def test_a_commit_during_the_walk_makes_it_walk_again():
    held = blocks()
    other = held[0][:200] + b"\1" + held[0][201:]     # a superblock written in between
    reads = []

    def read_block(n):
        reads.append(n)
        if n == 0:
            return held[0] if reads.count(0) != 2 else other
        return held[n]
    assert tm.committed_thin_ids(read_block) == thin_ls_ids()
    assert reads.count(0) == 4                        # walked twice

    superblock_reads = []

    def always_new(n):
        if n == 0:
            superblock_reads.append(n)
            return held[0] if len(superblock_reads) % 2 else other
        return held[n]
    with pytest.raises(tm.MetadataError, match="new transaction during each of 3 reads"):
        tm.committed_thin_ids(always_new, attempts=3)


def test_needs_check_as_the_kernel_read_it_and_after_thin_check_cleared_it():
    status = [c for c in CAPTURE["commands"] if "dmsetup status" in c["command"]][0]["stdout"]
    assert "needs_check" in status.split() and " ro " in status     # the kernel's view of it
    flagged = tm.parse_superblock(bytes.fromhex(CAPTURE["needs_check_set"]))
    assert flagged == dict(flagged, needs_check=True, checksum_ok=True)
    cleared = tm.parse_superblock(bytes.fromhex(CAPTURE["needs_check_cleared"]))
    assert "cleared needs_check flag" in output("thin_metadata",
                                                "thin_check --clear-needs-check-flag")["stderr"]
    assert cleared["needs_check"] is False and cleared["checksum_ok"] is True
    assert tm.parse_superblock(blocks()[0])["needs_check"] is False
    assert tm.parse_superblock(bytes(4096)) is None
