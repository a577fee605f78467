"""Delegations of signing authority through the public API: an executive delegates his own authority for his
unit, an administrator may record anyone's, both parties see it, and every bad request is a clear 422 or
403 that records nothing."""

from __future__ import annotations

from datetime import timedelta

from shared import thai
from tests.e2e.helpers import login


def delegation(**changes) -> dict:
    today = thai.today()
    return {
        "from_username": "cgd.dg",
        "to_username": "cgd.deputy",
        "org_key": "cgd",
        "kind": "delegated",
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat(),
    } | changes


async def test_an_executive_delegates_his_authority_and_both_see_it_until_revoked(api):
    dg, deputy = await login(api, "cgd.dg"), await login(api, "cgd.deputy")
    made = await api.post("/api/v1/delegations", headers=dg, json=delegation())
    assert made.status_code == 201, made.text
    record = made.json()
    assert record["from_username"] == "cgd.dg" and record["to_username"] == "cgd.deputy"
    assert record["org_key"] == "cgd" and record["org_name"] == "กรมบัญชีกลาง"
    assert record["on_behalf_text"] == "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง"
    assert record["in_force"] is True and record["revoked_at"] is None
    assert record["valid_from_th"] == thai.date_th(thai.today())
    assert record["to_position"] == "รองอธิบดีกรมบัญชีกลาง"

    for person in (dg, deputy):
        listed = await api.get("/api/v1/delegations", headers=person)
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == [record["id"]]
    others = await api.get("/api/v1/delegations", headers=await login(api, "cgd.head"))
    assert others.json()["items"] == []
    everyone = await api.get("/api/v1/delegations", headers=await login(api, "admin"))
    assert record["id"] in [item["id"] for item in everyone.json()["items"]]

    # Only the delegator (or an administrator) ends it; to anyone else it does not exist.
    path = f"/api/v1/delegations/{record['id']}/revoke"
    assert (await api.post(path, headers=await login(api, "cgd.director"))).status_code == 404
    assert (await api.post(path, headers=deputy)).status_code == 403  # he holds it, but does not give it
    revoked = await api.post(path, headers=dg)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["in_force"] is False and revoked.json()["revoked_by"] == "cgd.dg"
    again = await api.post(path, headers=dg)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]


async def test_an_administrator_records_a_delegation_for_an_executive(api):
    admin = await login(api, "admin")
    made = await api.post(
        "/api/v1/delegations", headers=admin, json=delegation(kind="acting", to_username="cgd.director")
    )
    assert made.status_code == 201, made.text
    assert made.json()["on_behalf_text"] == "รักษาราชการแทน อธิบดีกรมบัญชีกลาง"
    assert made.json()["created_by"] == "admin"


async def test_bad_delegations_are_refused_and_nothing_is_recorded(api):
    dg, head = await login(api, "cgd.dg"), await login(api, "cgd.head")
    today = thai.today()
    cases = [
        (dg, delegation(to_username="nobody.here"), "to_username"),
        (dg, delegation(to_username="cgd.dg"), "to_username"),
        (dg, delegation(org_key="cgd.budget"), "org_key"),  # not the delegator's unit
        (dg, delegation(org_key="no-such-unit"), "org_key"),
        (dg, delegation(valid_to=(today - timedelta(days=1)).isoformat()), "valid_to"),
        (
            dg,
            delegation(valid_from=(today + timedelta(days=5)).isoformat(), valid_to=today.isoformat()),
            "valid_to",
        ),
        (dg, delegation(kind="forever"), "kind"),
        (await login(api, "admin"), delegation(from_username="cgd.officer", to_username="cgd.head"), "from_username"),
    ]
    for caller, body, field in cases:
        refused = await api.post("/api/v1/delegations", headers=caller, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert field in [error["field"] for error in refused.json()["errors"]], refused.text
    # An executive gives only his own authority; a staff member has none to give.
    someone_elses = await api.post("/api/v1/delegations", headers=head, json=delegation())
    assert someone_elses.status_code == 403
    staff = await api.post(
        "/api/v1/delegations", headers=await login(api, "cgd.officer"), json=delegation(from_username="cgd.officer")
    )
    assert staff.status_code == 403
    assert (await api.get("/api/v1/delegations", headers=await login(api, "admin"))).json()["items"] == []
