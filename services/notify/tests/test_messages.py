"""What a notification says: every kind in Thai and English, Buddhist-era dates in Bangkok time, the page it
leads to; the choices a person makes and who an order tells."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from services.notify.domain import kinds, messages

FACTS = {
    "letter_id": str(uuid.uuid4()),
    "delivery_id": str(uuid.uuid4()),
    "doc_no": "กค 0200/7",
    "subject": "ขอเชิญประชุม",
    "urgency": "very_urgent",
    "deadline": "2026-12-03T09:30:00+00:00",
    "draft_id": str(uuid.uuid4()),
    "version": 2,
}


@pytest.mark.parametrize("kind", kinds.KINDS)
def test_every_kind_says_what_happened_in_both_languages(kind):
    th, en = messages.title(kind, FACTS)
    assert th and en and "None" not in th + en
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in th)
    if kind in (kinds.DEADLINE_TOMORROW, kinds.DEADLINE_PASSED, kinds.ASSIGNED_TO_YOU):
        assert "3 ธันวาคม 2569 เวลา 16:30 น." in th and "3 December 2026, 16:30 (Bangkok time)" in en
    link = messages.link(kind, FACTS)
    assert link.startswith("/") and "None" not in link


def test_a_letter_not_known_is_still_told_without_its_number():
    th, en = messages.title(kinds.PROPOSED_TO_YOU, {"letter_id": str(uuid.uuid4())})
    assert th == "มีหนังสือ เสนอท่านพิจารณา" and en == "A letter was proposed to you"


def test_a_mail_is_thai_first_then_english_with_the_whole_address():
    at = datetime.fromisoformat(FACTS["deadline"])
    subject, body = messages.mail(kinds.URGENT_LETTER, FACTS, at, "https://s.example/")
    assert subject == "[สารบรรณ] หนังสือ ที่ กค 0200/7 เรื่อง ขอเชิญประชุม ชั้นความเร็วด่วนมาก ถึงหน่วยงานของท่าน"
    assert body.index("ด่วนมาก") < body.index("very urgent")
    assert f"https://s.example/letters/{FACTS['letter_id']}" in body
    assert "เมื่อ 3 ธันวาคม 2569 เวลา 16:30 น." in body


def test_a_digest_lists_the_day_s_items_in_both_languages():
    at = datetime.fromisoformat(FACTS["deadline"])
    subject, body = messages.digest(date(2026, 12, 4), [(k, FACTS, at) for k in kinds.KINDS[:3]], None)
    assert subject == "[สารบรรณ] สรุปการแจ้งเตือนประจำวันที่ 4 ธันวาคม 2569 (3 รายการ)"
    assert body.index("3. ") < body.index("Your notifications of 4 December 2026 (3)")
    assert "/worklist" in body


def test_choices_default_to_mail_at_once_and_off_stops_only_the_mail():
    assert kinds.choices_of({"deadline_passed": "digest"})["deadline_passed"] == "digest"
    assert set(kinds.choices_of({}).values()) == {"immediate"}
    assert kinds.by_mail("immediate", True, "a@b.example") == "immediate"
    assert kinds.by_mail("off", True, "a@b.example") is None
    assert kinds.by_mail("immediate", False, "a@b.example") is None  # no mail server
    assert kinds.by_mail("digest", True, None) is None  # no address


def test_an_order_tells_assignees_once_and_not_the_head_himself():
    told = kinds.order_kinds(["a", "b", "dg"], ["b", "c", "dg"], "dg")
    assert told == {"a": "assigned_to_you", "b": "assigned_to_you", "c": "for_information"}
