"""What a notification says, in the page and by e-mail: Thai first, English below, Buddhist-era dates in
Bangkok time, and a link to the page where the person acts. Pure: the facts come from the notification.

A classified letter's subject never reaches a notification (the list is shown and mail leaves the system);
its number does, as in every list."""

from __future__ import annotations

from datetime import date, datetime

from services.notify.domain import kinds
from shared.thai import BANGKOK, date_th

URGENCY_TH = {"normal": "", "urgent": "ด่วน", "very_urgent": "ด่วนมาก", "most_urgent": "ด่วนที่สุด"}
URGENCY_EN = {"normal": "", "urgent": "urgent", "very_urgent": "very urgent", "most_urgent": "most urgent"}
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
PREFIX = "[สารบรรณ]"
SETTINGS_PAGE = "/me"


def datetime_th(moment: datetime) -> str:
    """`3 ธันวาคม 2569 เวลา 16:30 น.`"""
    return f"{date_th(moment)} เวลา {moment.astimezone(BANGKOK):%H:%M} น."


def datetime_en(moment: datetime) -> str:
    """`3 December 2026, 16:30 (Bangkok time)`"""
    local = moment.astimezone(BANGKOK)
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} (Bangkok time)"


def day_en(day: date) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def _letter_th(facts: dict) -> str:
    text = "หนังสือ"
    if facts.get("doc_no"):
        text += f" ที่ {facts['doc_no']}"
    if facts.get("subject"):
        text += f" เรื่อง {facts['subject']}"
    return text


def _letter_en(facts: dict) -> str:
    text = "a letter"
    if facts.get("doc_no"):
        text += f" no. {facts['doc_no']}"
    if facts.get("subject"):
        text += f" ({facts['subject']})"
    return text


def _deadline(facts: dict) -> tuple[str, str]:
    if not facts.get("deadline"):
        return "", ""
    moment = datetime.fromisoformat(facts["deadline"])
    return f" กำหนดเสร็จ {datetime_th(moment)}", f", due {datetime_en(moment)}"


def title(kind: str, facts: dict) -> tuple[str, str]:
    """One line in Thai and one in English."""
    letter_th, letter_en = _letter_th(facts), _letter_en(facts)
    due_th, due_en = _deadline(facts)
    version = facts.get("version")
    if kind == kinds.URGENT_LETTER:
        urgency = facts.get("urgency", "urgent")
        return (
            f"{letter_th} ชั้นความเร็ว{URGENCY_TH[urgency]} ถึงหน่วยงานของท่าน",
            f"A {URGENCY_EN[urgency]} letter arrived for your unit: {letter_en}",
        )
    if kind == kinds.PROPOSED_TO_YOU:
        return f"มี{letter_th} เสนอท่านพิจารณา", f"{letter_en.capitalize()} was proposed to you"
    if kind == kinds.ASSIGNED_TO_YOU:
        return (
            f"ท่านได้รับมอบหมายให้ดำเนินการ{letter_th}{due_th}",
            f"You were assigned to act on {letter_en}{due_en}",
        )
    if kind == kinds.FOR_INFORMATION:
        return f"{letter_th} ส่งถึงท่านเพื่อทราบ โปรดรับทราบ", f"{letter_en.capitalize()} is for your information"
    if kind == kinds.DEADLINE_TOMORROW:
        return f"{letter_th} ครบกำหนดพรุ่งนี้{due_th}", f"{letter_en.capitalize()} is due tomorrow{due_en}"
    if kind == kinds.DEADLINE_PASSED:
        return f"{letter_th} เลยกำหนดแล้ว{due_th}", f"{letter_en.capitalize()} is overdue{due_en}"
    if kind == kinds.DRAFT_TO_REVIEW:
        return f"ร่างหนังสือ (ฉบับที่ {version}) รอท่านพิจารณา", f"A draft (version {version}) waits for your review"
    if kind == kinds.AWAITING_SIGNATURE:
        return f"ร่างหนังสือ (ฉบับที่ {version}) รอท่านลงนาม", f"A draft (version {version}) waits for your signature"
    raise ValueError(f"unknown kind {kind!r}")


def link(kind: str, facts: dict) -> str:
    """The page, below the site's address, where the person sees or acts on what they were told."""
    if kind in (kinds.DRAFT_TO_REVIEW, kinds.AWAITING_SIGNATURE):
        return f"/drafts/{facts['draft_id']}"
    if kind == kinds.URGENT_LETTER:
        return f"/letters/{facts['letter_id']}"
    return "/worklist"  # งานของฉัน: what is proposed, assigned or given for information, overdue first


def absolute(path: str, public_url: str | None) -> str:
    return f"{public_url.rstrip('/')}{path}" if public_url else path


def mail(kind: str, facts: dict, at: datetime, public_url: str | None) -> tuple[str, str]:
    """The subject and text of one notification sent at once."""
    th, en = title(kind, facts)
    address = absolute(link(kind, facts), public_url)
    settings = absolute(SETTINGS_PAGE, public_url)
    body = "\n".join(
        [
            th,
            f"เมื่อ {datetime_th(at)}",
            f"ดูรายละเอียด: {address}",
            "",
            "---",
            en,
            f"On {datetime_en(at)}.",
            f"Details: {address}",
            "",
            f"เลือกได้ว่าจะรับการแจ้งเตือนใดและเมื่อใดที่ {settings}",
            f"(Choose which notifications you get, and when, at {settings}.)",
        ]
    )
    return f"{PREFIX} {th}", body + "\n"


def digest(day: date, items: list[tuple[str, dict, datetime]], public_url: str | None) -> tuple[str, str]:
    """The subject and text of a person's daily digest: every item of the day, Thai first, then English."""
    settings = absolute(SETTINGS_PAGE, public_url)
    lines = [f"สรุปการแจ้งเตือนประจำวันที่ {date_th(day)} ({len(items)} รายการ)", ""]
    for number, (kind, facts, at) in enumerate(items, 1):
        th, _ = title(kind, facts)
        lines += [f"{number}. {th}", f"   {datetime_th(at)} · {absolute(link(kind, facts), public_url)}"]
    lines += ["", "---", f"Your notifications of {day_en(day)} ({len(items)})", ""]
    for number, (kind, facts, at) in enumerate(items, 1):
        _, en = title(kind, facts)
        lines += [f"{number}. {en}", f"   {datetime_en(at)} · {absolute(link(kind, facts), public_url)}"]
    lines += [
        "",
        f"เลือกได้ว่าจะรับการแจ้งเตือนใดและเมื่อใดที่ {settings}",
        f"(Choose which notifications you get, and when, at {settings}.)",
    ]
    subject = f"{PREFIX} สรุปการแจ้งเตือนประจำวันที่ {date_th(day)} ({len(items)} รายการ)"
    return subject, "\n".join(lines) + "\n"
