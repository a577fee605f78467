"""The Merkle tree of RFC 9162 section 2.1 (the same tree as RFC 6962): tree hashes, inclusion and consistency
proofs, and their verification. Pure functions, standard library only, so the verifier command can use this
module without the service's database or settings.

Proofs are built from complete subtrees. `get_node(level, index)` answers the hash of the complete subtree of
2**level leaves starting at leaf index * 2**level (level 0 is a leaf hash). Every subtree the RFC 9162 split
produces starts at a multiple of its own largest power of two, so any proof needs O(log n) such nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

# Interior nodes are hashed with 0x01 so a node can never be presented as a leaf (leaves use 0x00).
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
# The hash of the empty tree is the hash of the empty string (RFC 9162 section 2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

GetNode = Callable[[int, int], bytes]


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) computed from all the leaf hashes; used to check the stored nodes and by the verifier."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return _root_of_list(list(leaf_hashes))


def _root_of_list(hashes: list[bytes]) -> bytes:
    # Bottom-up pairing: at every level a trailing odd node is carried up unchanged, which gives the same
    # shape as the recursive split (the left part is always the largest complete power of two).
    while len(hashes) > 1:
        paired = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        if len(hashes) % 2:
            paired.append(hashes[-1])
        hashes = paired
    return hashes[0]


def subtree_hash(start: int, end: int, get_node: GetNode) -> bytes:
    """MTH(D[start:end]) for a subtree of the RFC 9162 shape: start is a multiple of the largest power of two
    not above end - start. Reads one complete node per set bit of end - start."""
    size = end - start
    if size <= 0:
        raise ValueError("a subtree holds at least one leaf")
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return get_node(level, start >> level)
    k = split_point(size)
    return node_hash(get_node((k.bit_length() - 1), start // k), subtree_hash(start + k, end, get_node))


def tree_root(size: int, get_node: GetNode) -> bytes:
    """MTH of the first `size` leaves, from complete nodes."""
    return EMPTY_ROOT if size == 0 else subtree_hash(0, size, get_node)


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, nearest the leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return _path(index, 0, size, get_node)


def _path(index: int, start: int, end: int, get_node: GetNode) -> list[bytes]:
    size = end - start
    if size == 1:
        return []
    k = split_point(size)
    if index < k:
        return _path(index, start, start + k, get_node) + [subtree_hash(start + k, end, get_node)]
    return _path(index - k, start + k, end, get_node) + [subtree_hash(start, start + k, get_node)]


def consistency_proof(first: int, second: int, get_node: GetNode) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 section 2.1.4.1. Empty when first is 0 or equals second: the empty
    tree and the tree itself need no proof."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    if first == 0 or first == second:
        return []
    return _subproof(first, 0, second, True, get_node)


def _subproof(m: int, start: int, end: int, whole: bool, get_node: GetNode) -> list[bytes]:
    size = end - start
    if m == size:
        # The old tree is a complete subtree here; the verifier knows its hash already when it is the whole
        # old tree (`whole`), otherwise it must be given.
        return [] if whole else [subtree_hash(start, end, get_node)]
    k = split_point(size)
    if m <= k:
        return _subproof(m, start, start + k, whole, get_node) + [subtree_hash(start + k, end, get_node)]
    return _subproof(m - k, start + k, end, False, get_node) + [subtree_hash(start, start + k, get_node)]


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root a proof leads to (RFC 9162 section 2.1.3.2), or None when the proof cannot be for this
    index and size (wrong length, malformed hashes)."""
    if not 0 <= index < size or not _well_formed(leaf, *proof):
        return None
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None  # more hashes than the path has levels
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            # Levels where this node is the right edge's lone child carry it up without hashing.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return result if sn == 0 else None


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """True when `leaf` is the leaf hash at `index` of the tree of `size` leaves whose root is `root_hash`."""
    return root_from_inclusion_proof(index, size, leaf, proof) == root_hash


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """True when the tree of `first` leaves with `first_root` is a prefix of the tree of `second` leaves with
    `second_root` (RFC 9162 section 2.1.4.2)."""
    if not 0 <= first <= second or not _well_formed(*proof):
        return False
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        # A power-of-two old tree is a complete subtree of the new one: its root starts the path.
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    old, new = path[0], path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            old, new = node_hash(node, old), node_hash(node, new)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            new = node_hash(new, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and old == first_root and new == second_root


def complete_nodes(index: int, leaf: bytes, get_node: GetNode) -> list[tuple[int, int, bytes]]:
    """The complete subtrees that appending leaf `index` finishes, as (level, index, hash), leaf first: one
    per trailing one-bit of index + 1. Each needs only its left sibling, already stored."""
    nodes = [(0, index, leaf)]
    level, position, current = 0, index, leaf
    while position & 1:
        current = node_hash(get_node(level, position - 1), current)
        level, position = level + 1, position >> 1
        nodes.append((level, position, current))
    return nodes


def appended_nodes(first: int, leaves: Sequence[bytes], get_node: GetNode) -> list[tuple[int, int, bytes]]:
    """The complete subtrees that appending `leaves` at indexes first, first + 1, ... finishes, in order: the
    `complete_nodes` of each leaf in turn. A node finished by an earlier leaf of the same append is taken
    from this computation, so `get_node` is asked only for nodes stored before it (at most one per level)."""
    made: dict[tuple[int, int], bytes] = {}

    def known(level: int, index: int) -> bytes:
        found = made.get((level, index))
        return found if found is not None else get_node(level, index)

    nodes = []
    for offset, leaf in enumerate(leaves):
        for level, index, value in complete_nodes(first + offset, leaf, known):
            made[(level, index)] = value
            nodes.append((level, index, value))
    return nodes


def needed_nodes(compute: Callable[[GetNode], object]) -> set[tuple[int, int]]:
    """The (level, index) keys `compute` reads, found by a dry run over placeholder hashes, so a store can
    fetch them all in one query before the real run. The shape of every computation here depends only on
    sizes and indexes, never on hash values, so the dry run asks for exactly the nodes the real one will."""
    asked: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        asked.add((level, index))
        return bytes(HASH_SIZE)

    compute(record)
    return asked
