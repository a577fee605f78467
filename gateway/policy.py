"""The one default-deny policy: which roles may attempt which action. What they may see within an action
is decided by the owning service's scoped queries (outside the scope the answer is 404)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from shared.principal import Principal
from shared.problems import Problem

log = logging.getLogger("sarabun.policy")

ALLOWED: dict[str, frozenset[str]] = {
    # Officers and executives attach files to drafts and read them on their turn (storage scopes by unit).
    "attachment.upload": frozenset({"clerk", "staff", "executive"}),
    "attachment.read": frozenset({"clerk", "staff", "executive"}),
    "letter.send": frozenset({"clerk"}),
    "letter.read": frozenset({"clerk"}),
    "outbox.read": frozenset({"clerk"}),
    "inbox.read": frozenset({"clerk"}),
    "delivery.receive": frozenset({"clerk"}),
    "delivery.forward": frozenset({"clerk"}),
    "delivery.annotate": frozenset({"clerk"}),
    "delivery.refuse": frozenset({"clerk"}),
    "letter.recall": frozenset({"clerk"}),
    "letter.cancel": frozenset({"clerk"}),
    "audit.history": frozenset({"clerk", "auditor"}),
    "audit.log": frozenset({"auditor"}),  # entries, proofs, an agency's events, denied requests
    "audit.checkpoint": frozenset({"clerk", "auditor", "admin"}),  # checkpoint and public key: anyone signed in
    "directory.read": frozenset({"clerk", "staff", "executive", "auditor", "admin"}),  # a draft's recipients too
    "directory.manage": frozenset({"admin"}),  # import and export the directory
    "register.read": frozenset({"clerk", "auditor"}),
    "register.set_next": frozenset({"admin"}),
    "user.manage": frozenset({"admin"}),  # people: create, change, disable, import, one-time sign-in links
    "password.change": frozenset({"clerk", "staff", "executive", "auditor", "admin"}),  # one's own
    # Drafting (ร่าง → เสนอ → ลงนาม → ส่ง). Who acts on which draft is the line's business: intake answers 404 to
    # someone not on it and outside its unit, 409 out of turn; signing authority is checked per draft.
    "draft.write": frozenset({"staff", "clerk"}),  # draft, propose (เสนอ), recall (ดึงกลับ)
    "draft.read": frozenset({"staff", "clerk", "executive"}),  # a draft, its versions and PDF; the boxes
    "draft.review": frozenset({"staff", "clerk", "executive"}),  # endorse, return, edit on one's turn
    "draft.sign": frozenset({"executive", "staff", "clerk"}),  # ลงนาม: the signer or a delegate
    "draft.dispatch": frozenset({"clerk"}),  # the registry sends a signed letter
    "delegation.manage": frozenset({"admin", "executive"}),  # ปฏิบัติราชการแทน / รักษาราชการแทน
    "delegation.read": frozenset({"clerk", "staff", "executive", "admin"}),  # one's own, or all for an admin
    "letter.signatures": frozenset({"clerk"}),  # whether a letter's signatures verify
    # The work on a registered letter (เสนอ → สั่งการ → ปฏิบัติ → เรื่องเสร็จ). Which delivery and whose turn is
    # routing's business: 404 outside the unit, 403 for someone of the unit the order does not name.
    "delivery.propose": frozenset({"clerk"}),  # the unit's registry proposes to a head
    "delivery.order": frozenset({"executive"}),  # a head orders (เกษียนสั่งการ)
    "delivery.reopen": frozenset({"executive"}),
    "delivery.act": frozenset({"staff", "executive", "clerk"}),  # suspend, resume, close: an assignee or the head
    "delivery.acknowledge": frozenset({"staff", "executive", "clerk"}),  # รับทราบ, by those given it to know
    "delivery.work": frozenset({"staff", "executive", "clerk"}),  # the work on one of the unit's letters
    "worklist.read": frozenset({"staff", "executive", "clerk"}),  # งานของฉัน
    "follow-up.read": frozenset({"clerk", "executive"}),  # the unit's, per division and per person
    # One's own notifications and how one is told (the notify service keeps each person's to themselves).
    "notification.read": frozenset({"clerk", "staff", "executive", "auditor", "admin"}),
    "notification.choose": frozenset({"clerk", "staff", "executive", "auditor", "admin"}),
}

# Actions that change who may do what, or where numbering continues: they need a sign-in within FRESH, so a
# token left open on a desk cannot be used for them.
FRESH_ACTIONS = frozenset({"user.manage", "directory.manage", "register.set_next"})
FRESH = timedelta(minutes=15)
FRESH_SIGN_IN_TYPE = "/problems/fresh-sign-in-required"


def allowed(who: Principal, action: str) -> bool:
    return bool(ALLOWED.get(action, frozenset()) & set(who.roles))


class Denied(Problem):
    """A refusal by role; gateway/denials.py records it in the audit log on its way out."""

    def __init__(self, who: Principal, action: str):
        super().__init__(403, "บทบาทของท่านทำรายการนี้ไม่ได้ (your role does not allow this action)")
        self.who = who
        self.action = action


class FreshSignInRequired(Problem):
    """An administrative action with a token older than FRESH: the client sends the person to sign in again
    (the `type` tells this 401 from an expired or missing token)."""

    def __init__(self):
        super().__init__(
            401,
            "รายการนี้ต้องเข้าสู่ระบบใหม่ภายใน 15 นาทีที่ผ่านมา โปรดเข้าสู่ระบบอีกครั้ง "
            "(this action needs a sign-in within the last 15 minutes: please sign in again)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token", error_description="fresh sign-in required"'},
            type=FRESH_SIGN_IN_TYPE,
        )


def signed_in_recently(who: Principal, now: datetime | None = None) -> bool:
    if who.signed_in_at is None:
        return False
    return (now or datetime.now(UTC)) - who.signed_in_at <= FRESH


def require(who: Principal, action: str) -> None:
    if not allowed(who, action):
        log.warning("denied %s to %s (roles %s)", action, who.user, ",".join(who.roles))
        raise Denied(who, action)
    if action in FRESH_ACTIONS and not signed_in_recently(who):
        raise FreshSignInRequired()
