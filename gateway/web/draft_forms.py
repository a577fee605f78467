"""The drafting form: the letter's official parts as typed (kept whole through any refusal), the proposal line
(reviewers in order and the signer, chosen from people by name), and the API's draft request made from them.

People are typed into a box that suggests "name (username)" from the people list; what reaches the API is the
username. A name typed without the list's help is accepted when it names one person only."""

from __future__ import annotations

import re

from gateway.web import dates, forms
from shared import thai

TEXT_FIELDS = (
    "type",
    "sub_kind",
    "subject",
    "salutation",
    "to_text",
    "body",
    "closing",
    "urgency",
    "secrecy",
    "deliver_by",
    "recipient_text",
    "cc_text",
    "references",
    "enclosures",
    "owning_unit",
    "contact_phone",
    "contact_email",
    "signer",
)
LIST_FIELDS = ("recipient_org_ids", "recipient_group_ids", "cc_org_ids", "attachment_ids", "attachment_names")
# What compose's form has and a draft does not: the date and number come at signing, the signer from the line.
NOT_TYPED = {"doc_date": "", "signer_name": "", "signer_position": "", "idempotency_key": ""}
MAX_REVIEWERS = 10
# Empty reviewer boxes drawn for a browser without the script (which adds a box at a time).
SPARE_REVIEWERS = 2
DEFAULTS = forms.DEFAULTS

_USERNAME_IN_BRACKETS = re.compile(r"\(([^()\s]+)\)\s*$")


def blank(me: dict) -> dict:
    values = {name: "" for name in TEXT_FIELDS} | {name: [] for name in LIST_FIELDS} | DEFAULTS
    return values | NOT_TYPED | {"circular": False, "reviewers": [], "owning_unit": me.get("org_name") or ""}


def values_from(form) -> dict:
    values = {name: str(form.get(name, "") or "") for name in TEXT_FIELDS}
    values |= {name: [str(v) for v in form.getlist(name)] for name in LIST_FIELDS}
    values["circular"] = bool(form.get("circular"))
    values["reviewers"] = [str(v).strip() for v in form.getlist("reviewer") if str(v).strip()]
    return values | NOT_TYPED


def values_of(draft: dict, fields: dict | None = None) -> dict:
    """The form filled from a draft (its current version, or `fields` of an earlier one)."""
    f = fields if fields is not None else draft.get("fields") or {}
    contact = f.get("contact") or {}
    signer = draft.get("signer") or {}
    return NOT_TYPED | {
        "type": f.get("type") or "external",
        "sub_kind": f.get("sub_kind") or "",
        "subject": f.get("subject") or "",
        "salutation": f.get("salutation") or "",
        "to_text": f.get("to_text") or "",
        "body": f.get("body") or "",
        "closing": f.get("closing") or "",
        "urgency": f.get("urgency") or "normal",
        "secrecy": f.get("secrecy") or "normal",
        "deliver_by": dates.typed_moment(f.get("deliver_by")),
        "recipient_text": "",
        "cc_text": "",
        "references": "\n".join(r.get("doc_no", "") for r in f.get("references") or []),
        "enclosures": "\n".join(f.get("enclosures") or []),
        "owning_unit": f.get("owning_unit") or "",
        "contact_phone": contact.get("phone") or "",
        "contact_email": contact.get("email") or "",
        "signer": person_text(signer) if signer else "",
        "recipient_org_ids": [str(i) for i in f.get("recipient_org_ids") or []],
        "recipient_group_ids": [str(i) for i in f.get("recipient_group_ids") or []],
        "cc_org_ids": [str(i) for i in f.get("cc_org_ids") or []],
        "attachment_ids": [str(i) for i in f.get("attachment_ids") or []],
        "attachment_names": [],
        "circular": bool(f.get("circular")),
        "reviewers": [person_text(r) for r in draft.get("reviewers") or []],
    }


def person_text(person: dict) -> str:
    """How a person is shown in a box and suggested: "name (username)"."""
    name = person.get("display_name") or ""
    return f"{name} ({person['username']})" if name else person["username"]


def username_of(text: str, people: list[dict]) -> tuple[str | None, str | None]:
    """(username, None) for what was typed, or (None, why not). "name (username)" and, without a people list,
    any text are taken as the username itself, and the API decides."""
    typed = thai.clean(text or "").strip()
    if not typed:
        return None, None
    bracketed = _USERNAME_IN_BRACKETS.search(typed)
    if bracketed:  # as suggested (or as the draft's line shows it): the username itself, which the API checks
        return bracketed.group(1), None
    wanted = typed
    if not people:
        return wanted, None
    by_name = {p["username"].casefold(): p for p in people}
    if wanted.casefold() in by_name:
        return by_name[wanted.casefold()]["username"], None
    folded = _fold(typed)
    named = [p for p in people if _fold(p.get("display_name") or "") == folded]
    if not named:
        named = [p for p in people if folded in _fold(p.get("display_name") or "")]
    if len(named) == 1:
        return named[0]["username"], None
    if not named:
        return None, f"ไม่พบผู้ใช้ “{typed}” กรุณาเลือกจากรายชื่อ (no such person)"
    return None, f"“{typed}” ตรงกับ {len(named)} คน กรุณาเลือกจากรายชื่อ ({len(named)} people match)"


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", thai.clean(text)).casefold()


def line_of(values: dict, people: list[dict]) -> tuple[list[str], str | None, dict[str, str]]:
    """(reviewer usernames in order, signer username, errors by field) from the boxes."""
    errors: dict[str, str] = {}
    reviewers: list[str] = []
    for typed in values["reviewers"]:
        username, problem = username_of(typed, people)
        if problem:
            errors.setdefault("reviewers", problem)
        elif username:
            reviewers.append(username)
    if len(reviewers) > MAX_REVIEWERS:
        errors["reviewers"] = f"ผู้พิจารณาได้ไม่เกิน {MAX_REVIEWERS} คน (at most {MAX_REVIEWERS} reviewers)"
    signer, problem = username_of(values["signer"], people)
    if problem:
        errors["signer"] = problem
    elif not signer:
        errors["signer"] = "กรุณาเลือกผู้ลงนาม (choose who signs)"
    return reviewers, signer, errors


def draft_request(values: dict, reviewers: list[str], signer: str | None) -> dict:
    """The API's draft body: the letter's parts as for POST /letters, the body text and the line."""
    letter = forms.letter_request(values | NOT_TYPED)
    for unused in ("signer_name", "signer_position"):
        letter.pop(unused, None)
    letter["owning_unit"] = values["owning_unit"]
    if values["contact_phone"] or values["contact_email"]:
        letter["contact"] = {"phone": values["contact_phone"], "email": values["contact_email"]}
    return letter | {"reviewers": reviewers, "signer": signer or ""}
