"""The compose form: what was typed (kept whole through any refusal), the API request made from it, and the
API's problem+json errors placed next to the fields they are about, in readable Thai."""

from __future__ import annotations

import re

from gateway.web import dates, i18n
from gateway.web.client import ApiError

TEXT_FIELDS = (
    "type",
    "sub_kind",
    "subject",
    "salutation",
    "to_text",
    "body",
    "closing",
    "signer_name",
    "signer_position",
    "urgency",
    "secrecy",
    "deliver_by",
    "doc_date",
    "recipient_text",
    "cc_text",
    "references",
    "enclosures",
    "idempotency_key",
)
LIST_FIELDS = ("recipient_org_ids", "recipient_group_ids", "cc_org_ids", "attachment_ids", "attachment_names")
DEFAULTS = {
    "type": "external",
    "urgency": "normal",
    "secrecy": "normal",
    "salutation": "เรียน",
    "closing": "ขอแสดงความนับถือ",
}
THAI = re.compile("[\u0e00-\u0e7f]")
API_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")

# Which form field an API error is about: the API names its own fields, some nested (`references.0.doc_no`).
FIELD_OF = {
    "recipient_org_ids": "recipients",
    "recipient_group_ids": "recipients",
    "cc_org_ids": "recipients",
    "attachment_ids": "attachments",
    "reference_letter_ids": "references",
}


def values_from(form) -> dict:
    values = {name: str(form.get(name, "") or "") for name in TEXT_FIELDS}
    values |= {name: [str(v) for v in form.getlist(name)] for name in LIST_FIELDS}
    values["circular"] = bool(form.get("circular"))
    return values


def blank(idempotency_key: str) -> dict:
    values = {name: "" for name in TEXT_FIELDS} | {name: [] for name in LIST_FIELDS} | DEFAULTS
    return values | {"circular": False, "idempotency_key": idempotency_key}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def letter_request(values: dict) -> dict:
    """The API's SendLetterRequest from what was typed; the API decides what is valid."""
    body = {
        "type": values["type"],
        "subject": values["subject"],
        "body": values["body"],
        "salutation": values["salutation"],
        "to_text": values["to_text"],
        "closing": values["closing"],
        "signer_name": values["signer_name"],
        "signer_position": values["signer_position"],
        "urgency": values["urgency"],
        "secrecy": values["secrecy"],
        "circular": values["circular"],
        "recipient_org_ids": values["recipient_org_ids"],
        "recipient_group_ids": values["recipient_group_ids"],
        "cc_org_ids": values["cc_org_ids"],  # สำเนาส่ง
        "attachment_ids": values["attachment_ids"],
        "references": [{"doc_no": line} for line in _lines(values["references"])],
        "enclosures": _lines(values["enclosures"]),
    }
    if values["sub_kind"]:
        body["sub_kind"] = values["sub_kind"]
    deliver_by = dates.parse_moment(values["deliver_by"])
    if deliver_by:
        body["deliver_by"] = deliver_by.isoformat()  # typed in Bangkok time, sent with its offset
    doc_date = dates.parse_day(values["doc_date"])
    if doc_date:
        body["doc_date"] = doc_date.isoformat()
    return body


DATE_FIELDS = {"deliver_by": dates.parse_moment, "doc_date": dates.parse_day}


def date_errors(values: dict, lang: str = "th") -> dict[str, str]:
    """The Buddhist-era dates the API would be sent, checked first: a Gregorian year typed by mistake is
    refused here rather than sent as a date 543 years away."""
    errors = {}
    for name, parse in DATE_FIELDS.items():
        try:
            parse(values[name])
        except dates.DateRefused as refused:
            errors[name] = readable(str(refused), lang)
    return errors


def field_errors(error: ApiError, lang: str) -> dict[str, str]:
    """{form field: message}; what names no field is under "_form"."""
    t = i18n.translator(lang)
    placed: dict[str, str] = {}
    items = error.errors or [{"field": None, "message": error.detail}]
    for item in items:
        message = readable(str(item.get("message") or error.detail), lang)
        field = _field(item.get("field"), message)
        # The API's own field names (recipient_org_ids) mean nothing to a clerk: the form's words instead.
        if (
            field in ("recipients", "subject")
            and lang == "th"
            and (not THAI.search(message) or API_NAME.search(message))
        ):
            message = t(f"field.{field}")
        elif not THAI.search(message) and lang == "th":
            message = t("field.invalid")
        placed.setdefault(field, message)
    return placed


def _field(name, message: str) -> str:
    if name:
        head = str(name).split(".")[0]
        return FIELD_OF.get(head, head)
    if "recipient" in message or "ผู้รับ" in message:
        return "recipients"
    if "sub_kind" in message:
        return "sub_kind"
    return "_form"


def readable(message: str, lang: str) -> str:
    """Without the validator's prefix; in Thai, without the English gloss in brackets at the end."""
    message = message.removeprefix("Value error, ").strip()
    if lang == "th" and THAI.search(message):
        message = re.sub(r"\s*\([^()]*[A-Za-z][^()]*\)\s*$", "", message)
    return message
