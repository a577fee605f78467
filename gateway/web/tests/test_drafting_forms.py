"""The drafting pages' own decisions, without a server: whom a typed name means, which buttons a person sees
on a draft at each turn, in which capacity he may sign it, and how a letter's signature check is shown."""

from __future__ import annotations

from gateway.web import dates, draft_forms, i18n
from gateway.web.pages.drafts import allowed_now, signing_choices
from gateway.web.render import env

PEOPLE = [
    {"username": "cgd.head", "display_name": "นายสมศักดิ์ ตั้งใจ", "position": "หัวหน้ากลุ่มงาน"},
    {"username": "cgd.director", "display_name": "นางวันดี มีสุข", "position": "ผู้อำนวยการกองงบประมาณ"},
    {"username": "cgd.dg", "display_name": "นายประเสริฐ การคลัง", "position": "อธิบดีกรมบัญชีกลาง"},
    {"username": "cgd.deputy", "display_name": "นางสาวรัตนา ยุติธรรม", "position": "รองอธิบดีกรมบัญชีกลาง"},
]


def test_a_person_is_named_as_suggested_by_username_or_by_a_part_of_the_name_only_one_person_has():
    assert draft_forms.username_of("นายประเสริฐ การคลัง (cgd.dg)", PEOPLE) == ("cgd.dg", None)
    assert draft_forms.username_of("CGD.Head", PEOPLE) == ("cgd.head", None)
    assert draft_forms.username_of("นางวันดี  มีสุข", PEOPLE) == ("cgd.director", None)
    assert draft_forms.username_of("รัตนา", PEOPLE) == ("cgd.deputy", None)
    assert draft_forms.username_of("", PEOPLE) == (None, None)


def test_a_name_that_fits_several_people_or_nobody_is_refused_in_thai():
    username, problem = draft_forms.username_of("นาง", PEOPLE)
    assert username is None and "ตรงกับ 2 คน" in problem
    username, problem = draft_forms.username_of("สมหญิง", PEOPLE)
    assert username is None and "ไม่พบผู้ใช้" in problem


def test_the_line_keeps_the_reviewers_order_and_needs_a_signer():
    values = {"reviewers": ["cgd.director", "สมศักดิ์"], "signer": ""}
    reviewers, signer, errors = draft_forms.line_of(values, PEOPLE)
    assert reviewers == ["cgd.director", "cgd.head"]
    assert signer is None and "ผู้ลงนาม" in errors["signer"]


def draft(status: str, current: str | None, last_step: str = "proposed", signed_by: str | None = None) -> dict:
    return {
        "id": "d1",
        "author": "cgd.officer",
        "status": status,
        "current": current,
        "signer": {"username": "cgd.dg", "display_name": "นายประเสริฐ การคลัง", "position": "อธิบดีกรมบัญชีกลาง"},
        "history": [{"type": "created"}, {"type": last_step}],
        "signed_by": signed_by,
    }


def me(username: str, *roles: str) -> dict:
    return {"username": username, "roles": list(roles or ("executive",))}


def shown(can: dict) -> set[str]:
    return {name for name, yes in can.items() if yes}


def test_each_person_sees_the_buttons_of_their_turn_only():
    assert shown(allowed_now(draft("draft", None, "created"), me("cgd.officer", "staff"))) == {"edit", "propose"}
    assert shown(allowed_now(draft("returned", None, "returned"), me("cgd.officer", "staff"))) == {"edit", "propose"}
    # proposed a moment ago and nobody has acted: the author may still take it back
    assert shown(allowed_now(draft("in_review", "cgd.head"), me("cgd.officer", "staff"))) == {"recall"}
    assert shown(allowed_now(draft("in_review", "cgd.head", "endorsed"), me("cgd.officer", "staff"))) == set()
    assert shown(allowed_now(draft("in_review", "cgd.head"), me("cgd.head"))) == {"endorse", "return", "edit"}
    assert shown(allowed_now(draft("in_review", "cgd.head"), me("cgd.director"))) == set()
    assert shown(allowed_now(draft("awaiting_signature", "cgd.dg"), me("cgd.dg"))) == {"return", "edit"}
    assert shown(allowed_now(draft("signed", None, "signed"), me("cgd.clerk", "clerk"))) == {"dispatch"}
    assert shown(allowed_now(draft("dispatched", None, "dispatched"), me("cgd.clerk", "clerk"))) == set()


def test_the_signer_signs_as_himself_and_a_deputy_only_under_a_delegation_from_the_signer():
    waiting = draft("awaiting_signature", "cgd.dg")
    assert [c["kind"] for c in signing_choices(waiting, me("cgd.dg"), [])] == ["own"]
    from_dg = {"id": "g1", "from_username": "cgd.dg", "to_username": "cgd.deputy", "kind": "delegated"}
    from_other = {"id": "g2", "from_username": "cgd.director", "to_username": "cgd.deputy", "kind": "acting"}
    choices = signing_choices(waiting, me("cgd.deputy"), [from_dg, from_other])
    assert [(c["value"], c["kind"]) for c in choices] == [("g1", "delegated")]
    assert signing_choices(waiting, me("cgd.director"), [from_other]) == []
    assert signing_choices(draft("in_review", "cgd.head"), me("cgd.dg"), []) == []


def test_a_signing_left_halfway_is_offered_to_its_signer_to_finish():
    halfway = draft("signing", None, "signed", signed_by="cgd.deputy")
    assert [c["kind"] for c in signing_choices(halfway, me("cgd.deputy"), [])] == ["resume"]
    assert signing_choices(halfway, me("cgd.dg"), []) == []


def test_a_letters_signature_is_shown_valid_with_its_signer_or_as_a_red_warning_saying_what_failed():
    macros = env.get_template("macros.html").module
    t, dt = i18n.translator("th"), (lambda value: dates.date_time(value, "th"))
    at = "2026-12-02T07:30:00+00:00"
    good = {"signer": "นางสาวรัตนา ยุติธรรม", "valid": True, "trusted": True, "signed_at": at}
    valid = str(macros.signatures(t, dt, [good]))
    assert "ลายมือชื่ออิเล็กทรอนิกส์ถูกต้อง" in valid and "นางสาวรัตนา ยุติธรรม" in valid and "14:30" in valid
    assert 'data-valid="true"' in valid and "alert" not in valid

    changed = {"signer": "นางสาวรัตนา ยุติธรรม", "valid": False, "trusted": True, "signed_at": at, "problem": "modified"}
    warned = str(macros.signatures(t, dt, [changed]))
    assert "ลายมือชื่ออิเล็กทรอนิกส์ไม่ถูกต้อง" in warned and "เอกสารถูกแก้ไขหลังลงนาม" in warned
    assert 'class="signature-status invalid"' in warned and 'role="alert"' in warned

    stranger = {"signer": "CN=someone", "valid": True, "trusted": False, "signed_at": at, "problem": "untrusted"}
    assert "ไม่อาจยืนยันผู้ลงนามได้" in str(macros.signatures(t, dt, [stranger]))
