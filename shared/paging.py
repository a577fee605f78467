"""Opaque keyset cursors: the last row's sort key, base64 JSON, so clients cannot build one by hand."""

from __future__ import annotations

import base64
import json

from shared.problems import Problem


def encode_cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise Problem(422, "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)") from exc
    if not isinstance(values, list) or len(values) != size:
        raise Problem(422, "cursor ไม่ถูกต้อง ใช้ค่า next_cursor จากหน้าก่อน (invalid cursor)")
    return values
