"""Rules of a draft (ร่างหนังสือ) on its way to the signer: the proposal line (สายเสนอ), whose turn it is, what each
person may do on their turn, and when the author may still take it back. No I/O.

    draft ─propose─▶ in_review ─endorse…─▶ awaiting_signature ─sign─▶ signing ─signed─▶ signed ─dispatch─▶ dispatched
    in_review, awaiting_signature ─return─▶ returned ─propose─▶ the first reviewer again
    in_review, awaiting_signature ─recall─▶ draft, until the next person on the line has acted
"""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.domain.letters import LetterRefused, NewLetter, check_deadline, check_sendable
from shared.principal import CLEARANCE_ORDER

DRAFT = "draft"  # the author writes it
IN_REVIEW = "in_review"  # a reviewer's turn (เสนอผ่าน)
AWAITING_SIGNATURE = "awaiting_signature"  # the signer's turn (รอลงนาม)
RETURNED = "returned"  # sent back to the author with a reason (คืนแก้ไข)
SIGNING = "signing"  # numbered and dated; its PDF is being signed
SIGNED = "signed"  # ลงนามแล้ว: a letter in the send register, waiting for the registry to dispatch it
DISPATCHED = "dispatched"  # ส่งแล้ว: the letter went out as any other letter does

STATUSES = (DRAFT, IN_REVIEW, AWAITING_SIGNATURE, RETURNED, SIGNING, SIGNED, DISPATCHED)
STATUS_TH = {
    DRAFT: "ร่าง",
    IN_REVIEW: "อยู่ระหว่างเสนอ",
    AWAITING_SIGNATURE: "รอลงนาม",
    RETURNED: "คืนแก้ไข",
    SIGNING: "กำลังลงนาม",
    SIGNED: "ลงนามแล้ว",
    DISPATCHED: "ส่งแล้ว",
}

LINE_MAX = 10  # reviewers on one line

# Who may take an action: the author, the person whose turn it is (a reviewer, or the signer once every reviewer
# has endorsed), the signer (or someone signing for them under a delegation the gateway has checked), the person
# who started signing, or the registry clerk who dispatches.
AUTHOR, CURRENT, SIGNER, SIGNED_BY, REGISTRY = "author", "current", "signer", "signed_by", "registry"

# Targets that depend on the line: the first person on it, or the next one after the current reviewer.
FIRST_ON_LINE, NEXT_ON_LINE = "first on the line", "next on the line"


@dataclass(frozen=True)
class Move:
    target: str
    by: str
    repeat: bool = False  # the action was already taken: nothing changes, the answer is as before


# The whole state machine, action × status. Anything not listed here is refused with the current status.
MOVES: dict[tuple[str, str], Move] = {
    # PUT: a new version. The author while it is with them; the reviewer or signer on their turn (line kept).
    ("edit", DRAFT): Move(DRAFT, AUTHOR),
    ("edit", RETURNED): Move(RETURNED, AUTHOR),
    ("edit", IN_REVIEW): Move(IN_REVIEW, CURRENT),
    ("edit", AWAITING_SIGNATURE): Move(AWAITING_SIGNATURE, CURRENT),
    ("propose", DRAFT): Move(FIRST_ON_LINE, AUTHOR),
    ("propose", RETURNED): Move(FIRST_ON_LINE, AUTHOR),
    ("endorse", IN_REVIEW): Move(NEXT_ON_LINE, CURRENT),
    ("return", IN_REVIEW): Move(RETURNED, CURRENT),
    ("return", AWAITING_SIGNATURE): Move(RETURNED, CURRENT),
    ("recall", IN_REVIEW): Move(DRAFT, AUTHOR),
    ("recall", AWAITING_SIGNATURE): Move(DRAFT, AUTHOR),
    ("sign", AWAITING_SIGNATURE): Move(SIGNING, SIGNER),
    ("sign", SIGNING): Move(SIGNING, SIGNED_BY, repeat=True),  # resumed after a failure midway
    ("signed", SIGNING): Move(SIGNED, SIGNED_BY),
    ("signed", SIGNED): Move(SIGNED, SIGNED_BY, repeat=True),
    ("dispatch", SIGNED): Move(DISPATCHED, REGISTRY),
    ("dispatch", DISPATCHED): Move(DISPATCHED, REGISTRY, repeat=True),
}
ACTIONS = tuple(dict.fromkeys(action for action, _ in MOVES))

ACTION_TH = {
    "edit": "แก้ไข",
    "propose": "เสนอ",
    "endorse": "เห็นชอบ",
    "return": "คืนแก้ไข",
    "recall": "เรียกคืน",
    "sign": "ลงนาม",
    "signed": "บันทึกการลงนาม",
    "dispatch": "ส่ง",
}


class DraftConflict(Exception):
    """The action is not allowed now: the draft's status does not allow it, or it is not this person's turn.
    The message names the current status, in Thai and in English."""

    def __init__(self, message: str, status: str):
        super().__init__(message)
        self.message = message
        self.status = status


def _wrong_status(action: str, status: str) -> DraftConflict:
    message = (
        f"{ACTION_TH[action]}ไม่ได้ เพราะร่างนี้อยู่ในสถานะ{STATUS_TH[status]} (cannot {action} a draft that is {status})"
    )
    return DraftConflict(message, status)


def _not_your_turn(action: str, status: str, waiting_for: str | None) -> DraftConflict:
    whom = f" ขณะนี้รอ {waiting_for}" if waiting_for else ""
    english = f"; waiting for {waiting_for}" if waiting_for else ""
    message = (
        f"{ACTION_TH[action]}ไม่ได้ เพราะไม่ใช่ลำดับของท่าน ร่างนี้อยู่ในสถานะ{STATUS_TH[status]}{whom} "
        f"(not your turn: the draft is {status}{english})"
    )
    return DraftConflict(message, status)


@dataclass(frozen=True)
class Line:
    """สายเสนอ: who wrote it, who reviews it in order, who signs it (usernames)."""

    author: str
    reviewers: tuple[str, ...]
    signer: str


@dataclass(frozen=True)
class DraftState:
    status: str
    step: int  # which reviewer's turn, while in review
    line: Line
    last_step: str  # the last step in its history (created, proposed, endorsed, edited, ...)
    signed_by: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: str
    step: int
    current: str | None  # whose turn it is afterwards
    repeat: bool = False


def current(state: DraftState) -> str | None:
    """Whose turn it is: the author while it is with them, the reviewer or signer on the line, the person
    signing; nobody's once it is signed (the registry's)."""
    if state.status in (DRAFT, RETURNED):
        return state.line.author
    if state.status == IN_REVIEW:
        return state.line.reviewers[state.step]
    if state.status == AWAITING_SIGNATURE:
        return state.line.signer
    if state.status == SIGNING:
        return state.signed_by
    return None


def decide(
    action: str,
    state: DraftState,
    actor: str,
    *,
    on_behalf_of: str | None = None,
    registry: bool = False,
) -> Outcome:
    """What `actor` taking `action` does to the draft; raises DraftConflict when the status does not allow it
    or it is not their turn. `on_behalf_of` (sign only) is the signer the actor signs for, under a delegation
    the caller has checked; `registry` says whether the actor dispatches for the draft's registry."""
    move = MOVES.get((action, state.status))
    if move is None:
        raise _wrong_status(action, state.status)
    if not _may_act(move.by, state, actor, on_behalf_of, registry):
        raise _not_your_turn(action, state.status, current(state))
    if action == "recall" and state.last_step != "proposed":
        message = (
            f"เรียกคืนไม่ได้ เพราะผู้ได้รับเสนอได้ดำเนินการกับร่างนี้แล้ว ร่างอยู่ในสถานะ{STATUS_TH[state.status]} "
            f"(cannot recall: the next person has already acted; the draft is {state.status})"
        )
        raise DraftConflict(message, state.status)
    status, step = _target(move.target, state)
    after = DraftState(status, step, state.line, state.last_step, state.signed_by or _signer_now(action, actor))
    return Outcome(status, step, current(after), move.repeat)


def _signer_now(action: str, actor: str) -> str | None:
    return actor if action == "sign" else None


def _may_act(by: str, state: DraftState, actor: str, on_behalf_of: str | None, registry: bool) -> bool:
    if by == AUTHOR:
        return actor == state.line.author
    if by == CURRENT:
        return actor == current(state)
    if by == SIGNER:
        if on_behalf_of is None:
            return actor == state.line.signer
        return on_behalf_of == state.line.signer and actor != on_behalf_of
    if by == SIGNED_BY:
        return actor == state.signed_by
    return registry


def _target(target: str, state: DraftState) -> tuple[str, int]:
    reviewers = state.line.reviewers
    if target == FIRST_ON_LINE:  # proposing again starts the line from its first reviewer
        return (IN_REVIEW, 0) if reviewers else (AWAITING_SIGNATURE, 0)
    if target == NEXT_ON_LINE:
        step = state.step + 1
        return (IN_REVIEW, step) if step < len(reviewers) else (AWAITING_SIGNATURE, 0)
    if target in (DRAFT, RETURNED):
        return target, 0
    return target, state.step


# ── The line and the fields ────────────────────────────────────────────────────────────────────────────


def check_line(line: Line) -> None:
    """Raises LetterRefused for a line that cannot work: a reviewer twice, the author or the signer among the
    reviewers (they already have their turn), or more reviewers than a line takes."""
    errors = []
    if len(line.reviewers) > LINE_MAX:
        errors.append(f"ผู้ตรวจได้ไม่เกิน {LINE_MAX} คน (at most {LINE_MAX} reviewers)")
    if len(set(line.reviewers)) != len(line.reviewers):
        errors.append("ผู้ตรวจแต่ละคนอยู่ในสายเสนอได้ครั้งเดียว (each reviewer once)")
    if line.author in line.reviewers:
        errors.append("ผู้ร่างเป็นผู้ตรวจร่างของตนเองไม่ได้ (the author cannot review their own draft)")
    if line.signer in line.reviewers:
        errors.append("ผู้ลงนามเป็นผู้ตรวจในสายเดียวกันไม่ได้ (the signer cannot also be a reviewer)")
    if errors:
        raise LetterRefused(
            "reviewers", f"สายเสนอไม่ถูกต้อง: {errors[0]}", errors=[{"field": "reviewers", "message": e} for e in errors]
        )


def same_line(a: Line, b: Line) -> bool:
    """The same people in the same order (names and positions as printed may be refreshed)."""
    return (a.reviewers, a.signer) == (b.reviewers, b.signer)


CLEARANCE_MESSAGE = "ชั้นความลับของร่างสูงกว่าสิทธิ์ของท่าน (the draft's secrecy is above your clearance)"


def check_fields(letter: NewLetter, sender_org_id, clearance: str, now) -> None:
    """A draft's fields are checked as a letter's are when it is written, so that what is signed can be sent:
    recipients, no ลับที่สุด, a deadline ahead, and nothing classified above what its writer may read."""
    check_sendable(letter, sender_org_id)
    if CLEARANCE_ORDER.index(letter.secrecy) > CLEARANCE_ORDER.index(clearance):
        raise LetterRefused("secrecy", CLEARANCE_MESSAGE)
    check_deadline(letter, now)


# ── How the line looks to the people on it ─────────────────────────────────────────────────────────────

WAITING, CURRENT_TURN, ENDORSED, RETURNED_STATE, SIGNED_STATE = "waiting", "current", "endorsed", "returned", "signed"


def line_states(state: DraftState, returned_by: str | None) -> tuple[list[str], str]:
    """Each reviewer's state and the signer's: waiting | current | endorsed | returned | signed.
    `returned_by` is who returned it last, while it is still returned."""
    reviewers = state.line.reviewers
    past_reviewers = state.status in (AWAITING_SIGNATURE, SIGNING, SIGNED, DISPATCHED)
    states = []
    for i, reviewer in enumerate(reviewers):
        if state.status == RETURNED and reviewer == returned_by:
            states.append(RETURNED_STATE)
        elif past_reviewers or (state.status == IN_REVIEW and i < state.step):
            states.append(ENDORSED)
        elif state.status == IN_REVIEW and i == state.step:
            states.append(CURRENT_TURN)
        else:
            states.append(WAITING)
    if state.status in (SIGNED, DISPATCHED):
        signer = SIGNED_STATE
    elif state.status in (AWAITING_SIGNATURE, SIGNING):
        signer = CURRENT_TURN
    elif state.status == RETURNED and state.line.signer == returned_by:
        signer = RETURNED_STATE
    else:
        signer = WAITING
    return states, signer
