"""The walking skeleton's flow through the public API, in embedded mode."""

from tests.e2e.helpers import login, org_ids
from tests.flow import core_flow


async def test_letter_from_ops_is_delivered_received_and_audited(api):
    letter = await core_flow(api)
    assert letter["doc_no"] == "กค 0200/1"


async def test_numbers_run_on_and_idempotency_key_creates_nothing_new(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "เรื่องทดสอบ", "recipient_org_ids": [orgs["cgd"]]}
    first = await api.post("/api/v1/letters", headers={**ops, "Idempotency-Key": "k-1"}, json=body)
    repeat = await api.post("/api/v1/letters", headers={**ops, "Idempotency-Key": "k-1"}, json=body)
    second = await api.post("/api/v1/letters", headers=ops, json=body)
    assert first.json()["id"] == repeat.json()["id"]
    assert [first.json()["doc_no"], second.json()["doc_no"]] == ["กค 0200/1", "กค 0200/2"]
    outbox = (await api.get("/api/v1/outbox", headers=ops)).json()
    assert [i["doc_no"] for i in outbox["items"]] == ["กค 0200/2", "กค 0200/1"]
    changed = await api.post(
        "/api/v1/letters", headers={**ops, "Idempotency-Key": "k-1"}, json={**body, "subject": "อื่น"}
    )
    assert changed.status_code == 409


async def test_circular_has_its_own_series(api):
    ops = await login(api, "ops.clerk")
    orgs = await org_ids(api, ops)
    body = {"type": "external", "subject": "แจ้งเวียน", "recipient_org_ids": [orgs["cgd"], orgs["rd"]], "circular": True}
    circular = await api.post("/api/v1/letters", headers=ops, json=body)
    ordinary = await api.post("/api/v1/letters", headers=ops, json={**body, "circular": False})
    assert (circular.json()["doc_no"], ordinary.json()["doc_no"]) == ("กค 0200/ว 1", "กค 0200/1")


async def test_uploads_flag_risky_pdfs_and_downloads_cannot_run_anything(api):
    from tests.e2e.helpers import PDF

    ops = await login(api, "ops.clerk")
    scripted = PDF.replace(b"<</Type/Catalog>>", b"<</Type/Catalog/OpenAction<</S/JavaScript/JS(x)>>>>")
    plain = (
        await api.post("/api/v1/attachments", headers=ops, files={"file": ("a.pdf", PDF, "application/pdf")})
    ).json()
    risky = await api.post("/api/v1/attachments", headers=ops, files={"file": ("b.pdf", scripted, "application/pdf")})
    assert plain["flags"] == [] and risky.json()["flags"] == ["script"]
    download = await api.get(f"/api/v1/attachments/{plain['id']}/content", headers=ops)
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"
