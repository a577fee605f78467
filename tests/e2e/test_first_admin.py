"""`sarabun admin create` against a fresh production database (SARABUN_DEMO unset, real secrets): the first
administrator, who then signs in through the API; an existing name is refused with exit status 2."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import httpx
from sqlalchemy import select

from gateway.adapters.tables import outbox
from services.launcher import embedded, main
from shared.settings import Settings

PASSWORD = "รหัสผ่านผู้ดูแล-ยาวพอ"


def _production(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SARABUN_DEMO", raising=False)
    monkeypatch.setenv("SARABUN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SARABUN_JWT_SECRET", "j" * 40)
    monkeypatch.setenv("SARABUN_SERVICE_SECRET", "s" * 40)
    monkeypatch.setenv("SARABUN_AUDIT_SIGNING_KEY", base64.b64encode(b"k" * 32).decode())
    monkeypatch.setenv("SARABUN_LOG_LEVEL", "WARNING")


def _create(monkeypatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["admin", "create", *args])


def test_the_first_administrator_is_made_on_a_fresh_database_and_signs_in(monkeypatch, tmp_path, capsys):
    _production(monkeypatch, tmp_path)
    assert _create(monkeypatch, "First.Admin", "--display-name", "ผู้ดูแลระบบ", stdin=PASSWORD + "\n") == 0
    assert _create(monkeypatch, "first.admin", stdin=PASSWORD + "\n") == 2
    assert "already exists" in capsys.readouterr().err
    assert _create(monkeypatch, "link.admin", "--link") == 0
    url = capsys.readouterr().out.split()[0]
    assert "/auth/link/" in url
    assert _create(monkeypatch, "short", stdin="short\n") == 2
    asyncio.run(_signs_in(Settings(), url.rsplit("/", 1)[1]))


async def _signs_in(settings: Settings, link_token: str) -> None:
    assert not settings.demo
    deployment = embedded(settings)
    await deployment.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=deployment.app), base_url="http://s") as api:
            issued = await api.post("/api/v1/auth/token", data={"username": "first.admin", "password": PASSWORD})
            assert issued.status_code == 200, issued.text
            headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
            me = (await api.get("/api/v1/me", headers=headers)).json()
            assert (me["username"], me["display_name"], me["org_id"], me["roles"]) == (
                "first.admin",
                "ผู้ดูแลระบบ",
                None,
                ["admin"],
            )
            assert (await api.get("/api/v1/inbox", headers=headers)).status_code == 403
            listed = (await api.get("/api/v1/admin/users", headers=headers)).json()
            assert [p["username"] for p in listed["items"]] == ["first.admin", "link.admin"]
            by_link = await api.post("/api/v1/auth/link", json={"token": link_token})
            assert by_link.status_code == 200
        async with deployment.app.state.db.read() as session:
            staged = [json.loads(body) for body in (await session.execute(select(outbox.c.body))).scalars()]
        created = [e for e in staged if e["type"] == "user.created.v1"]
        assert [(e["actor"], e["data"]["username"]) for e in created] == [("cli", "first.admin"), ("cli", "link.admin")]
        assert PASSWORD not in json.dumps(staged, ensure_ascii=False)
    finally:
        await deployment.stop()
