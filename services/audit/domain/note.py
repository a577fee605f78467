"""Checkpoints as C2SP signed notes (tlog-checkpoint inside signed-note), Ed25519 only. No I/O, and nothing
from the service: the verifier command uses this module as it is.

A checkpoint body is three lines: the log's origin, the tree size in decimal, the base64 root hash. The
signed note is the body, a blank line, then one line per signature: an em dash, the key name and
base64(key id || signature). The key id is the first four bytes of SHA-256(name || "\n" || 0x01 || public
key), so a verifier can tell which of its keys a line claims without trying them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"  # the signature type byte of the signed-note spec
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_NOTE_BYTES = 1 << 16  # a checkpoint is a few hundred bytes; anything far larger is refused unread


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or not signed by the expected key."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Strict standard base64: no stray characters, no missing padding."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"not base64: {text[:40]!r}") from exc


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519 + public_key).digest()[:4]


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key_text(name: str, public_key: bytes) -> str:
    """The note verifier key: name+hex(key id)+base64(0x01 || public key)."""
    return f"{name}+{key_id(name, public_key).hex()}+{b64(ED25519 + public_key)}"


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3 or not _valid_name(parts[0]):
        raise NoteError("a verifier key is name+keyid+key")
    name, hex_id, encoded = parts
    try:
        claimed = bytes.fromhex(hex_id)
    except ValueError as exc:
        raise NoteError("the key id of a verifier key is 8 hex digits") from exc
    raw = unb64(encoded)
    if len(raw) != 33 or raw[:1] != ED25519:
        raise NoteError("only Ed25519 verifier keys are supported")
    if claimed != key_id(name, raw[1:]):
        raise NoteError("the key id does not match the key")
    return VerifierKey(name, claimed, raw[1:])


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{b64(root)}\n"


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    if not body.endswith("\n") or "\n\n" in body or not _valid_name(name):
        raise NoteError("a note body is non-empty lines ending in a newline, and a key name has no spaces")
    signature = private_key.sign(body.encode("utf-8"))
    return f"{body}\n{SIGNATURE_PREFIX}{name} {b64(key_id(name, public_bytes(private_key)) + signature)}\n"


def open_note(note: str, key: VerifierKey) -> str:
    """The body of a note carrying a valid signature by `key`; lines by other keys are ignored, as the spec
    asks. Anything else raises NoteError."""
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise NoteError("note too large")
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("control characters in a note")
    body, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("no signature block")
    body += "\n"
    for line in signatures[:-1].split("\n"):
        name, raw = _signature_line(line)
        if name != key.name or raw[:4] != key.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(raw[4:], body.encode("utf-8"))
        except InvalidSignature as exc:
            raise NoteError("bad signature") from exc
        return body
    raise NoteError(f"not signed by {key.name}")


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("malformed signature line")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    raw = unb64(encoded)
    if not _valid_name(name) or len(raw) < 5:
        raise NoteError("malformed signature line")
    return name, raw


def parse_checkpoint(body: str) -> Checkpoint:
    """Origin, size and root of a checkpoint body; extension lines after the third are allowed and ignored."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise NoteError("a checkpoint is origin, size and root, one per line")
    size_text, root_text = lines[1], lines[2]
    if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("the tree size is a decimal number without leading zeros")
    root = unb64(root_text)
    if len(root) != 32:
        raise NoteError("the root hash is 32 bytes")
    return Checkpoint(lines[0], int(size_text), root)


def signed_checkpoint(origin: str, size: int, root: bytes, private_key: Ed25519PrivateKey) -> str:
    """A checkpoint note signed with the key named after the origin, the convention of transparency logs."""
    return sign_note(checkpoint_body(origin, size, root), origin, private_key)


def verify_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    checkpoint = parse_checkpoint(open_note(note, key))
    if checkpoint.origin != key.name:
        raise NoteError(f"checkpoint of {checkpoint.origin!r}, not of {key.name!r}")
    return checkpoint
