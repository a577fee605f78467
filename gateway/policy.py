"""The one default-deny policy: which roles may attempt which action. What they may see within an action
is decided by the owning service's scoped queries (outside the scope the answer is 404)."""

from __future__ import annotations

import logging

from shared.principal import Principal
from shared.problems import Problem

log = logging.getLogger("sarabun.policy")

ALLOWED: dict[str, frozenset[str]] = {
    "attachment.upload": frozenset({"clerk"}),
    "attachment.read": frozenset({"clerk"}),
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
    "directory.read": frozenset({"clerk", "auditor", "admin"}),
    "directory.manage": frozenset({"admin"}),  # import and export the directory
    "register.read": frozenset({"clerk", "auditor"}),
    "register.set_next": frozenset({"admin"}),
}


def allowed(who: Principal, action: str) -> bool:
    return bool(ALLOWED.get(action, frozenset()) & set(who.roles))


class Denied(Problem):
    """A refusal by role; gateway/denials.py records it in the audit log on its way out."""

    def __init__(self, who: Principal, action: str):
        super().__init__(403, "บทบาทของท่านทำรายการนี้ไม่ได้ (your role does not allow this action)")
        self.who = who
        self.action = action


def require(who: Principal, action: str) -> None:
    if not allowed(who, action):
        log.warning("denied %s to %s (roles %s)", action, who.user, ",".join(who.roles))
        raise Denied(who, action)
