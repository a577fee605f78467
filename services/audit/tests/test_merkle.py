"""The Merkle tree against the published RFC 6962 test tree (the 8-leaf tree of the Certificate Transparency
implementations), then exhaustively: every proof for every small tree verifies, and any change breaks it."""

from __future__ import annotations

import hashlib

import pytest

from services.audit.domain.log import leaf_hash
from services.audit.domain.merkle import (
    EMPTY_ROOT,
    appended_nodes,
    complete_nodes,
    consistency_proof,
    inclusion_proof,
    needed_nodes,
    node_hash,
    root,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 reference tree: these leaf inputs and roots are the published vectors.
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, proof), published with 1-based leaf numbers 1, 6, 3, 2.
CT_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip

MAX = 64


def store_for(hashes: list[bytes]):
    """A get_node built the way the service builds it: complete nodes written as each leaf is appended."""
    nodes: dict[tuple[int, int], bytes] = {}
    for i, h in enumerate(hashes):
        for level, index, value in complete_nodes(i, h, lambda lv, ix: nodes[(lv, ix)]):
            nodes[(level, index)] = value

    def get_node(level: int, index: int) -> bytes:
        return nodes[(level, index)]

    return get_node, nodes


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


CT_HASHES = [leaf_hash(entry) for entry in CT_LEAVES]
CT_NODES, _ = store_for(CT_HASHES)
BIG = _leaves(MAX)
BIG_NODES, BIG_STORED = store_for(BIG)
BIG_ROOTS = [root(BIG[:n]) for n in range(MAX + 1)]


def _flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def test_the_empty_tree_and_one_node():
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_published_roots(size):
    assert root(CT_HASHES[:size]).hex() == CT_ROOTS[size - 1]
    assert tree_root(size, CT_NODES).hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), CT_INCLUSION)
def test_published_inclusion_proofs(index, size, proof):
    assert [h.hex() for h in inclusion_proof(index, size, CT_NODES)] == proof
    assert verify_inclusion(index, size, CT_HASHES[index], [bytes.fromhex(h) for h in proof],
                            bytes.fromhex(CT_ROOTS[size - 1]))  # fmt: skip


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY)
def test_published_consistency_proofs(first, second, proof):
    assert [h.hex() for h in consistency_proof(first, second, CT_NODES)] == proof
    old, new = bytes.fromhex(CT_ROOTS[first - 1]), bytes.fromhex(CT_ROOTS[second - 1])
    assert verify_consistency(first, second, old, new, [bytes.fromhex(h) for h in proof])


def test_stored_nodes_are_exactly_the_complete_subtrees():
    # A tree of 64 leaves has 64 + 32 + ... + 1 complete subtrees, each hashing its own span of leaves.
    assert len(BIG_STORED) == 127
    for (level, index), value in BIG_STORED.items():
        span = 1 << level
        assert value == root(BIG[index * span : (index + 1) * span])


def test_every_inclusion_proof_verifies_and_fails_when_tampered():
    for size in range(1, MAX + 1):
        top = BIG_ROOTS[size]
        assert tree_root(size, BIG_NODES) == top
        for index in range(size):
            proof = inclusion_proof(index, size, BIG_NODES)
            assert len(proof) <= (size - 1).bit_length()
            assert verify_inclusion(index, size, BIG[index], proof, top)
            assert not verify_inclusion(index, size, _flip(BIG[index]), proof, top)
            assert not verify_inclusion(index, size, BIG[index], proof, _flip(top))
            for i in range(len(proof)):
                bad = [*proof[:i], _flip(proof[i], i % 8), *proof[i + 1 :]]
                assert not verify_inclusion(index, size, BIG[index], bad, top)
            # A proof for another index, a longer or shorter proof, a wrong size: all refused.
            if size > 1:
                other = (index + 1) % size
                assert not verify_inclusion(other, size, BIG[index], proof, top)
                assert not verify_inclusion(index, size, BIG[index], proof[:-1], top)
            assert not verify_inclusion(index, size, BIG[index], [*proof, top], top)


def test_every_consistency_proof_verifies_and_fails_when_tampered():
    for second in range(0, MAX + 1):
        for first in range(0, second + 1):
            proof = consistency_proof(first, second, BIG_NODES)
            old, new = BIG_ROOTS[first], BIG_ROOTS[second]
            assert verify_consistency(first, second, old, new, proof), (first, second)
            if first == 0:
                continue
            assert not verify_consistency(first, second, _flip(old), new, proof)
            assert not verify_consistency(first, second, old, _flip(new), proof)
            for i in range(len(proof)):
                bad = [*proof[:i], _flip(proof[i], 3), *proof[i + 1 :]]
                assert not verify_consistency(first, second, old, new, bad)
            if proof:
                assert not verify_consistency(first, second, old, new, proof[:-1])
                assert not verify_consistency(first, second, old, new, [*proof, new])
                assert not verify_consistency(first + 1, second, old, new, proof)


def test_a_rewritten_leaf_changes_the_root_but_not_an_earlier_checkpoint():
    # Editing leaf 40 leaves the tree of 40 as it was, yet no proof links it to the edited 64-leaf tree.
    edited = list(BIG)
    edited[40] = leaf_hash(b"rewritten")
    nodes, _ = store_for(edited)
    assert root(edited) != BIG_ROOTS[MAX]
    assert tree_root(40, nodes) == BIG_ROOTS[40]
    assert not verify_consistency(40, MAX, BIG_ROOTS[40], BIG_ROOTS[MAX], consistency_proof(40, MAX, nodes))
    assert not verify_consistency(41, MAX, BIG_ROOTS[41], root(edited), consistency_proof(41, MAX, nodes))


@pytest.mark.parametrize(("index", "size"), [(-1, 4), (4, 4), (0, 0)])
def test_proofs_of_leaves_outside_the_tree_are_refused(index, size):
    with pytest.raises(ValueError):
        inclusion_proof(index, size, BIG_NODES)
    assert not verify_inclusion(index, size, BIG[0], [], BIG_ROOTS[1])


def test_impossible_consistency_requests_are_refused():
    with pytest.raises(ValueError):
        consistency_proof(5, 4, BIG_NODES)
    with pytest.raises(ValueError):
        consistency_proof(-1, 4, BIG_NODES)
    assert not verify_consistency(5, 4, BIG_ROOTS[5], BIG_ROOTS[4], [])
    # Equal sizes prove nothing unless the roots agree; a hash of the wrong length is never accepted.
    assert not verify_consistency(4, 4, BIG_ROOTS[4], BIG_ROOTS[5], [])
    assert not verify_consistency(3, 4, BIG_ROOTS[3], BIG_ROOTS[4], [b"short"])


@pytest.mark.parametrize("batch", [1, 2, 3, 5, 8, 13])
def test_appending_in_batches_writes_the_nodes_of_appending_one_at_a_time(batch):
    hashes = _leaves(MAX)
    _, expected = store_for(hashes)
    stored: dict[tuple[int, int], bytes] = {}
    for first in range(0, MAX, batch):
        chunk = hashes[first : first + batch]

        def compute(get, first=first, chunk=chunk):
            return appended_nodes(first, chunk, get)

        asked = needed_nodes(compute)
        # Only nodes stored before the batch are read, at most one per level; the batch's own come from itself.
        assert all((level, index) in stored and (index + 1) << level <= first for level, index in asked)
        assert len(asked) <= first.bit_length()
        for level, index, value in compute(lambda lv, ix: stored[(lv, ix)]):
            assert (level, index) not in stored
            stored[(level, index)] = value
    assert stored == expected
