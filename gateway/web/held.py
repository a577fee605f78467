"""An import file between its preview and its confirmation. The preview page carries the file back to the
browser in hidden fields, signed: the confirming form re-posts exactly the bytes the dry run saw, or it is
refused. Nothing is kept on the server, so any gateway replica can take the confirmation, and an abandoned
preview leaves nothing behind.

The signature (HMAC-SHA256 under a key derived from the gateway's secret) binds what the file is for, this
browser's CSRF seed, the time of the preview and the content's SHA-256: a preview from another browser, an
older one, or an altered file does not apply."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass

from fastapi import Request

from gateway.web import session

# The API takes up to 10 MB; base64 makes that a third larger in the form that comes back.
MAX_BYTES = 10 * 1024 * 1024
MAX_FORM_PART = MAX_BYTES * 4 // 3 + 1024
MAX_AGE_SECONDS = 30 * 60


@dataclass(frozen=True)
class Held:
    name: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _key(request: Request) -> bytes:
    secret = request.app.state.settings.jwt_secret.encode("utf-8")
    return hmac.new(secret, b"sarabun-web-held-import", hashlib.sha256).digest()


def _signature(request: Request, purpose: str, held: Held, at: int) -> str:
    parts = (purpose, session.csrf_seed(request), str(at), held.name, held.content_type, held.sha256)
    return hmac.new(_key(request), "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def hold(request: Request, purpose: str, held: Held) -> dict[str, str]:
    """The hidden fields of the confirming form."""
    at = int(time.time())
    return {
        "held_name": held.name,
        "held_type": held.content_type,
        "held_content": base64.b64encode(held.content).decode("ascii"),
        "held_at": str(at),
        "held_signature": _signature(request, purpose, held, at),
    }


def release(request: Request, purpose: str, form) -> Held | None:
    """The previewed file from the confirming form; None when it was altered, is too old, or is not there."""
    try:
        held = Held(
            name=str(form.get("held_name", "")),
            content_type=str(form.get("held_type", "")),
            content=base64.b64decode(str(form.get("held_content", "")), validate=True),
        )
        at = int(str(form.get("held_at", "")))
    except (ValueError, binascii.Error):
        return None
    if not 0 <= time.time() - at <= MAX_AGE_SECONDS:
        return None
    signature = str(form.get("held_signature", ""))
    if not hmac.compare_digest(_signature(request, purpose, held, at), signature):
        return None
    return held
