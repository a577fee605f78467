"""Rules of a delivery (one letter to one recipient unit): its states, the actions that move it, and the
receive register. No I/O.

States follow the acknowledgements of the national e-CMS interchange, so a gateway to it maps one to one:
`delivered` (ReceiveLetterNotifier: in the recipient's inbox), `received` (AcceptLetterNotifier: registered
with a receive number), `rejected` (Reject), `invalid` (Invalid: misaddressed or defective).
"""

from __future__ import annotations

from dataclasses import dataclass

RECEIVE_REGISTER = "receive"  # ทะเบียนหนังสือรับ

URGENCY_RANK = {"normal": 0, "urgent": 1, "very_urgent": 2, "most_urgent": 3}

STATUSES = (
    "pending",
    "delivered",
    "received",
    "forwarded",
    "returned",
    "rejected",
    "invalid",
    "recalled",
    "closed",
)

REASON_MAX = 1000  # as shared.schemas.REASON_MAX; the domain checks it without depending on the API


@dataclass(frozen=True)
class Transition:
    action: str
    thai: str
    sources: frozenset[str]
    target: str
    by: str  # "recipient" or "sender": whose clerk may take the action


# The whole state machine. Anything not listed here is refused with the current state.
TRANSITIONS = {
    t.action: t
    for t in (
        Transition("receive", "ลงรับ", frozenset({"delivered"}), "received", "recipient"),
        Transition("forward", "ส่งต่อ", frozenset({"received"}), "forwarded", "recipient"),
        Transition("return", "คืนเรื่อง", frozenset({"delivered", "received"}), "returned", "recipient"),
        Transition("reject", "ปฏิเสธ", frozenset({"delivered"}), "rejected", "recipient"),
        Transition("report_invalid", "แจ้งหนังสือผิด", frozenset({"delivered"}), "invalid", "recipient"),
        Transition("recall", "ดึงคืน", frozenset({"pending", "delivered"}), "recalled", "sender"),
    )
}


class DeliveryConflict(Exception):
    """The delivery is in a state that does not allow the action."""

    def __init__(self, action: str, status: str):
        thai = TRANSITIONS[action].thai
        super().__init__(f"{thai}ไม่ได้ เพราะหนังสือนี้อยู่ในสถานะ {status} (cannot {action} a {status} delivery)")
        self.status = status


def next_status(action: str, status: str) -> str:
    """The state after `action`; raises DeliveryConflict when the action is not allowed from `status`."""
    transition = TRANSITIONS[action]
    if status not in transition.sources:
        raise DeliveryConflict(action, status)
    return transition.target


# ── The work on a registered delivery (เสนอ → สั่งการ → ปฏิบัติ → เรื่องเสร็จ) ────────────────────────────────────
# A registered delivery stays `received` while its unit works on it and becomes `closed` when the work is done;
# the stage of the work is kept beside the status, so the statuses clients know keep their meaning. The work
# states below are the delivery's status, with `received` split by its stage.
STAGES = ("proposed", "ordered", "suspended")
WORK_STATES = (*(s for s in STATUSES if s != "received"), "received", *STAGES)


@dataclass(frozen=True)
class WorkTransition:
    action: str
    thai: str
    sources: frozenset[str]
    target: str | None  # None: the action leaves the state as it is (รับทราบ)


WORK = {
    t.action: t
    for t in (
        # The clerk puts the letter before a head; proposing again (to another head) replaces the proposal.
        WorkTransition("propose", "เสนอ", frozenset({"received", "proposed"}), "proposed"),
        # A head orders, with or without a proposal; a new order supersedes the one in force.
        WorkTransition("order", "สั่งการ", frozenset({"received", "proposed", "ordered"}), "ordered"),
        WorkTransition("suspend", "พักเรื่อง", frozenset({"ordered"}), "suspended"),
        WorkTransition("resume", "ดำเนินการต่อ", frozenset({"suspended"}), "ordered"),
        WorkTransition("close", "ปิดเรื่อง", frozenset({"ordered", "suspended"}), "closed"),
        WorkTransition("reopen", "เปิดเรื่องใหม่", frozenset({"closed"}), "ordered"),
        # Read proof: once there is an order naming people for information, and still after closing.
        WorkTransition("acknowledge", "รับทราบ", frozenset({"ordered", "suspended", "closed"}), None),
    )
}


def work_state(status: str, stage: str | None) -> str:
    """The delivery's place in the work: its status, or for a registered one the stage its work is at."""
    return (stage or "received") if status == "received" else status


class WorkConflict(Exception):
    """The work on the delivery is at a state that does not allow the action."""

    def __init__(self, action: str, state: str):
        thai = WORK[action].thai
        hint = WORK_HINTS.get(state, "")
        super().__init__(f"{thai}ไม่ได้ เพราะหนังสือนี้อยู่ในสถานะ {state}{hint} (cannot {action} a {state} delivery)")
        self.state = state


WORK_HINTS = {
    "delivered": " ต้องลงรับก่อน",
    "suspended": " ต้องดำเนินการต่อก่อน",
    "closed": " ต้องเปิดเรื่องใหม่ก่อน",
    "received": " ยังไม่มีคำสั่งการ",
    "proposed": " ยังไม่มีคำสั่งการ",
}


def next_work(action: str, status: str, stage: str | None) -> tuple[str, str | None]:
    """(status, stage) after `action`; raises WorkConflict when the work is not at a state that allows it."""
    state = work_state(status, stage)
    transition = WORK[action]
    if state not in transition.sources:
        raise WorkConflict(action, state)
    target = transition.target or state
    if target == "closed":
        return "closed", stage
    return "received", target


def receive_repeated(receive_no: int | None) -> bool:
    """ลงรับ again answers with the first receive number instead of a conflict, whatever happened since."""
    return receive_no is not None


def check_reason(reason: str) -> str | None:
    """A refusal, return or cancellation always says why; None when the reason is acceptable."""
    if not reason.strip():
        return "ต้องระบุเหตุผล (a reason is required)"
    if len(reason) > REASON_MAX:
        return f"เหตุผลยาวเกิน {REASON_MAX} ตัวอักษร (reason too long)"
    return None
