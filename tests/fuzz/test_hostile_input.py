"""Input written to hurt: disguised text, oversized and deeply nested JSON, forged tokens, hostile filenames.
Each is refused with a 4xx problem or stored harmless, and the server keeps answering afterwards."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from gateway.auth import AUDIENCE, ISSUER
from shared.principal import ALGORITHM
from shared.principal import AUDIENCE as SERVICES_AUDIENCE
from shared.settings import DEMO_SECRET
from tests.e2e.helpers import PDF, eventually, inbox_item, login, org_ids

# Thai, emoji (one with a flag sequence), Hebrew and Arabic (right to left), decomposed é and สระอำ typed as
# nikhahit + sara aa; around them NUL, BEL, DEL, a C1 control, bidi overrides and isolates, and padding.
DIRTY = "  \u202eเรื่อง\x00 ขอเชิญประชุม 😀🇹🇭 שלום مرحبا\u200f\x07\x7f\x85 e\u0301 น\u0e4d\u0e32 \u2066x\u2069  "
CLEAN = "เรื่อง ขอเชิญประชุม 😀🇹🇭 שלום مرحبا é นำ x"
DISGUISES = {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))} - {"\n", "\t"} | set(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
JSON = {"content-type": "application/json"}


def assert_problem(response, *statuses: int) -> dict:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]
    return body


def assert_clean(value: str) -> None:
    assert not DISGUISES & set(value), ascii(value)
    assert unicodedata.is_normalized("NFC", value)


async def send(api, headers, orgs, **fields):
    body = {"type": "external", "subject": "เรื่องทดสอบ", "recipient_org_ids": [orgs["cgd"]], **fields}
    return await api.post("/api/v1/letters", headers=headers, json=body)


async def still_answering(api, headers, orgs) -> None:
    """The server took the blow: it answers, and a normal letter gets the next number (none was used up)."""
    assert (await api.get("/api/v1/me", headers=headers)).status_code == 200
    good = await send(api, headers, orgs)
    assert good.status_code == 201, good.text
    assert good.json()["doc_no"] == "กค 0200/1"


async def test_every_text_field_of_a_letter_is_stored_clean(api):
    ops, cgd = await login(api, "ops.clerk"), await login(api, "cgd.clerk")
    orgs = await org_ids(api, ops)
    texts = ("subject", "salutation", "signer_name", "signer_position", "to_text", "closing", "owning_unit")
    fields = {
        **{name: DIRTY for name in texts},
        "body": f"{DIRTY}\r\nย่อหน้าที่สอง\tมีแท็บ\x1b[31m",
        "references": [{"doc_no": DIRTY, "subject": DIRTY}],
        "enclosures": [DIRTY],
        "contact": {"phone": "\u202e0 2127 7000\x00", "email": "saraban@mof.go.th\u2067"},
    }
    sent = await send(api, ops, orgs, **fields)
    assert sent.status_code == 201, sent.text
    letter = (await api.get(f"/api/v1/letters/{sent.json()['id']}", headers=ops)).json()

    for name in texts:
        assert letter[name] == CLEAN, name
    # Newlines and tabs are text; the carriage return and the escape sequence's ESC are not.
    assert letter["body"] == f"{CLEAN}  \nย่อหน้าที่สอง\tมีแท็บ[31m"  # trimmed at the ends only
    assert letter["references"][0]["doc_no"] == CLEAN and letter["references"][0]["subject"] == CLEAN
    assert letter["enclosures"] == [CLEAN]
    assert letter["contact"] == {"phone": "0 2127 7000", "email": "saraban@mof.go.th"}
    for value in (*texts, "body"):
        assert_clean(letter[value])

    item = await eventually(lambda: inbox_item(api, cgd, letter["id"]))
    assert item["subject"] == CLEAN
    search = await api.get("/api/v1/inbox", headers=cgd, params={"q": "นำ"})  # the composed สระอำ is found
    assert [i["letter_id"] for i in search.json()["items"]] == [letter["id"]]


async def test_lone_surrogates_are_dropped_not_a_server_error(api):
    # JSON may escape half of a UTF-16 pair; such a string cannot be encoded, stored or forwarded.
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    raw = json.dumps({"type": "external", "subject": "ก\ud800ข", "body": "\udfffค", "recipient_org_ids": [orgs["cgd"]]})
    assert "\\ud800" in raw
    sent = await api.post("/api/v1/letters", headers={**ops, **JSON}, content=raw.encode())
    assert sent.status_code == 201, sent.text
    assert (sent.json()["subject"], sent.json()["body"]) == ("กข", "ค")
    only_a_surrogate = json.dumps({"type": "external", "subject": "\udc00", "recipient_org_ids": [orgs["cgd"]]})
    body = assert_problem(await api.post("/api/v1/letters", headers={**ops, **JSON}, content=only_a_surrogate), 422)
    assert body["errors"][0]["field"] == "subject"


async def test_a_five_megabyte_body_is_refused_and_the_server_keeps_answering(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    huge_subject = json.dumps(
        {"type": "external", "subject": "ก" * (5 * 1024 * 1024 // 3), "recipient_org_ids": [orgs["cgd"]]},
        ensure_ascii=False,
    )
    huge_list = json.dumps({"type": "external", "subject": "x", "recipient_org_ids": [orgs["cgd"]] * 140_000})
    for raw in (huge_subject, huge_list):
        assert len(raw.encode()) >= 5 * 1024 * 1024
        assert_problem(await api.post("/api/v1/letters", headers={**ops, **JSON}, content=raw.encode()), 413, 422)
    await still_answering(api, ops, orgs)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        b'{"type":"external","subject":"x","recipient_org_ids":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"type":"external","subject":"x","contact":' + b'{"phone":' * 10_000 + b'""' + b"}" * 10_001,
    ],
    ids=["arrays", "objects", "inside-a-field", "inside-an-object-field"],
)
async def test_deeply_nested_json_is_refused_and_the_server_keeps_answering(api, raw):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = assert_problem(await api.post("/api/v1/letters", headers={**ops, **JSON}, content=raw), 400, 422)
    assert body["detail"].isascii() is False  # Thai first, like every other answer
    await still_answering(api, ops, orgs)


@pytest.mark.parametrize(
    "deliver_by", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"], ids=["after-9999", "before-1"]
)
async def test_a_deadline_outside_the_calendar_is_refused_before_anything_is_numbered(api, deliver_by):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = assert_problem(await send(api, ops, orgs, deliver_by=deliver_by), 422)
    assert body["errors"][0]["field"] == "deliver_by"
    await still_answering(api, ops, orgs)


async def test_a_deadline_keeps_its_instant_whatever_the_offset(api):
    # Stored as UTC (SQLite keeps no offset), given back as the same instant and shown in Thai; the first is
    # the last second of the calendar at the largest offset there is.
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    for given in ("9999-12-31T23:59:59+14:00", "2099-01-01T10:00:00+07:00"):
        sent = await send(api, ops, orgs, deliver_by=given)
        assert sent.status_code == 201, sent.text
        letter = (await api.get(f"/api/v1/letters/{sent.json()['id']}", headers=ops)).json()
        assert datetime.fromisoformat(letter["deliver_by"]) == datetime.fromisoformat(given)
        assert letter["deliver_by_th"]


@pytest.mark.parametrize("key", ["คีย์ไทย".encode(), b"caf\xe9", b"a b", b"x" * 201])
async def test_an_idempotency_key_that_is_not_visible_ascii_is_refused(api, key):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "x", "recipient_org_ids": [orgs["cgd"]]}
    response = await api.post("/api/v1/letters", headers={**ops, "Idempotency-Key": key}, json=body)
    assert assert_problem(response, 422)["errors"][0]["field"] == "header.idempotency-key"
    await still_answering(api, ops, orgs)


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _forged(token: str, secret: str = DEMO_SECRET, algorithm: str = ALGORITHM, **changes) -> str:
    claims = {**_claims(token), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


def _tampered(token: str) -> str:
    """The same signature over a payload that now claims the auditor role."""
    header, _, signature = token.split(".")
    payload = jwt.utils.base64url_encode(json.dumps({**_claims(token), "roles": ["auditor"]}).encode()).decode()
    return f"{header}.{payload}.{signature}"


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: _forged(t, exp=int((datetime.now(UTC) - timedelta(seconds=5)).timestamp())),
        _tampered,
        lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
        lambda t: _forged(t, aud=SERVICES_AUDIENCE),  # a token meant for the services, not for the API
        lambda t: _forged(t, aud=None),
        lambda t: _forged(t, iss="someone-else"),
        lambda t: _forged(t, exp=None),
        lambda t: _forged(t, secret="another-secret-of-at-least-thirty-two-bytes"),
        lambda t: _forged(t, algorithm="none", secret=None),
        lambda t: _forged(t, org="not-a-uuid"),
        lambda t: _forged(t, roles=None),
    ],
    ids=[
        "expired",
        "tampered-payload",
        "tampered-signature",
        "wrong-audience",
        "no-audience",
        "wrong-issuer",
        "no-expiry",
        "wrong-key",
        "unsigned",
        "bad-org",
        "no-roles",
    ],
)
async def test_forged_tokens_are_refused_with_401(api, forge):
    real = (await login(api, "ops.clerk"))["Authorization"].removeprefix("Bearer ")
    assert _claims(real)["iss"] == ISSUER and _claims(real)["aud"] == AUDIENCE
    for path in ("/api/v1/me", "/api/v1/inbox"):
        response = await api.get(path, headers={"Authorization": f"Bearer {forge(real)}"})
        assert_problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await api.get("/api/v1/me", headers={"Authorization": f"Bearer {real}"})).status_code == 200


def _multipart(filename: bytes, content: bytes = PDF) -> tuple[dict, bytes]:
    """A hand-made form, so that the filename reaches the server byte for byte (clients escape NUL)."""
    body = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + content + b"\r\n--b0undary--\r\n"
    )
    return {"content-type": "multipart/form-data; boundary=b0undary"}, body


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (b"../../etc/passwd.pdf", "passwd.pdf"),
        (b"..\\..\\Windows\\win.pdf", "win.pdf"),
        (b"/var/lib/sarabun/objects/attachments/x.pdf", "x.pdf"),
        (b"a\x00b.pdf", "ab.pdf"),
        ("รายงาน\u202efdp.exe\u202c.pdf".encode(), "รายงานfdp.exe.pdf"),
        ("\u2067หนังสือ\u2069 e\u0301.pdf".encode(), "หนังสือ é.pdf"),
        (b"../..", "attachment"),
    ],
    ids=["dot-dot", "backslashes", "absolute", "nul", "bidi-override", "isolate-and-nfd", "only-dots"],
)
async def test_hostile_filenames_are_cleaned(api, sent, stored):
    ops = await login(api, "ops.clerk")
    headers, body = _multipart(sent)
    upload = await api.post("/api/v1/attachments", headers={**ops, **headers}, content=body)
    assert upload.status_code == 201, upload.text
    assert upload.json()["filename"] == stored
    download = await api.get(f"/api/v1/attachments/{upload.json()['id']}/content", headers=ops)
    assert download.status_code == 200 and download.content == PDF
    disposition = download.headers["content-disposition"]
    assert disposition.isascii() and "\x00" not in disposition and "/" not in disposition
    assert disposition.startswith("attachment; filename=")


async def test_many_failed_sign_ins_are_throttled_with_retry_after(api):
    for _ in range(5):
        wrong = await api.post("/api/v1/auth/token", data={"username": "rd.clerk", "password": "guess"})
        assert wrong.status_code == 401
    throttled = await api.post("/api/v1/auth/token", data={"username": "rd.clerk", "password": "sarabun-demo"})
    assert throttled.status_code == 429 and throttled.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    other = await api.post("/api/v1/auth/token", data={"username": "cgd.clerk", "password": "sarabun-demo"})
    assert other.status_code == 200  # only the guessed name waits


async def test_a_good_sign_in_clears_earlier_failures(api):
    for _ in range(4):
        await api.post("/api/v1/auth/token", data={"username": "td.clerk", "password": "guess"})
    assert (
        await api.post("/api/v1/auth/token", data={"username": "td.clerk", "password": "sarabun-demo"})
    ).status_code == 200
    for _ in range(4):
        await api.post("/api/v1/auth/token", data={"username": "td.clerk", "password": "guess"})
    assert (
        await api.post("/api/v1/auth/token", data={"username": "td.clerk", "password": "sarabun-demo"})
    ).status_code == 200
