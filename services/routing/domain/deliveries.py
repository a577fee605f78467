"""Rules of a delivery (one letter to one recipient unit): its states and the receive register. No I/O.

States follow the two acknowledgements of the national interchange: `delivered` (ตอบรับ: in the recipient's
inbox) and `received` (แจ้งเลขรับ: registered with a receive number), so a gateway to e-CMS maps one to one.
"""

from __future__ import annotations

RECEIVE_REGISTER = "receive"  # ทะเบียนหนังสือรับ

URGENCY_RANK = {"normal": 0, "urgent": 1, "very_urgent": 2, "most_urgent": 3}

STATUSES = ("pending", "delivered", "received", "forwarded", "returned", "rejected", "recalled", "closed")


class DeliveryConflict(Exception):
    """The delivery is in a state that does not allow the action."""


def can_receive(status: str) -> bool:
    """Registering is allowed once it is in the inbox; repeating it answers with the same number."""
    if status in ("delivered", "received"):
        return True
    raise DeliveryConflict(f"ลงรับไม่ได้ เพราะหนังสือนี้อยู่ในสถานะ {status} (cannot receive a {status} delivery)")


def already_received(status: str) -> bool:
    return status == "received"
