"""The byte-level rules of the audit log (RFC 6962/9162): canonical JSON entries and their leaf hashes.
No I/O here.

A leaf hash is computed over the entry bytes exactly as stored, so anyone holding those bytes can check it
without this code. The canonical form exists so that the same facts always give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

# RFC 6962 section 2.1: leaves are hashed with a 0x00 prefix and interior nodes with 0x01, so a leaf can
# never be passed off as a node (second-preimage resistance of the tree).
LEAF_PREFIX = b"\x00"


def canonical_json(value) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (not \\u escapes). Floats are refused because their text form is not
    the same in every language a verifier may be written in; entries carry integers only."""
    _check(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def _check(value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                # json.dumps would turn 1 into "1" and let two different keys collide.
                raise TypeError(f"entry keys must be strings, not {type(key).__name__}")
            _check(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check(item)
    elif isinstance(value, float):
        raise TypeError("floats have no canonical form in an entry; use an integer or a string")
    elif value is not None and not isinstance(value, str | int):
        raise TypeError(f"{type(value).__name__} has no canonical JSON form")


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry), the Merkle leaf hash of RFC 6962/9162."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def utc_text(moment: datetime) -> str:
    """One text form per instant: UTC, microseconds, `Z`. The same instant written with +07:00 gives the same
    bytes. Contracts carry aware times; a naive one is taken as UTC, the system's storage zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
