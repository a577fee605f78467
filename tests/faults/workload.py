"""The clients of the fault tests: clerks who send and register letters through the public API and retry
with the same Idempotency-Key until an answer is definite, and a reader of the final state for the checker.
Every answer the clients were given is recorded in a History."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections import Counter

import httpx

from tests.faults.checker import FinalState, History

PASSWORD = "sarabun-demo"
SENDER = "ops.clerk"
RECIPIENTS = ("cgd", "rd", "td")  # the departments the bursts go to; each has a `<key>.clerk`
RETRYABLE = {500, 502, 503, 504}


class Workload:
    def __init__(self, api: httpx.AsyncClient, history: History, within: float = 120.0):
        self.api, self.history, self.within = api, history, within
        self.tokens: dict[str, dict] = {}
        self.orgs: dict[str, str] = {}
        self.server_errors: Counter[int] = Counter()  # 5xx answers seen while retrying, by status

    async def call(self, method: str, url: str, user: str, headers: dict | None = None, **kwargs) -> httpx.Response:
        """Retries transport failures and 5xx until the answer is definite (2xx or 4xx)."""
        deadline = time.monotonic() + self.within
        while True:
            try:
                sent = {**await self.headers(user), **(headers or {})}
                response = await self.api.request(method, url, headers=sent, **kwargs)
                if response.status_code not in RETRYABLE:
                    return response
                self.server_errors[response.status_code] += 1
            except httpx.TransportError:
                self.server_errors[0] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {url} got no definite answer within {self.within}s")
            await asyncio.sleep(0.5)

    async def headers(self, user: str) -> dict:
        if user not in self.tokens:
            self.tokens[user] = await self._login(user)
        return self.tokens[user]

    async def _login(self, user: str) -> dict:
        deadline = time.monotonic() + self.within
        while True:
            try:
                response = await self.api.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
                if response.status_code == 200:
                    return {"Authorization": f"Bearer {response.json()['access_token']}"}
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{user} could not sign in within {self.within}s")
            await asyncio.sleep(0.5)

    async def org_ids(self) -> dict[str, str]:
        if not self.orgs:
            response = await self.call("GET", "/api/v1/orgs", SENDER)
            self.orgs = {org["key"]: org["id"] for org in response.json()}
        return self.orgs

    async def send(self, tag: str, recipients: tuple[str, ...] = RECIPIENTS) -> dict:
        """One letter from ops.clerk; retried under one Idempotency-Key until accepted."""
        orgs = await self.org_ids()
        key = f"faults-{tag}-{uuid.uuid4().hex[:12]}"
        body = {
            "type": "external",
            "subject": f"ทดสอบความทนทาน {tag}",
            "recipient_org_ids": [orgs[r] for r in recipients],
            "urgency": "normal",
            "secrecy": "normal",
        }
        response = await self.call("POST", "/api/v1/letters", SENDER, json=body, headers={"Idempotency-Key": key})
        assert response.status_code == 201, response.text
        self.history.accepted(key, response.json())
        return response.json()

    async def burst(self, tag: str, count: int, concurrency: int = 4) -> list[dict]:
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> dict:
            async with gate:
                return await self.send(f"{tag}-{i}")

        return await asyncio.gather(*(one(i) for i in range(count)))

    async def receive(self, recipient: str, delivery_id: str) -> int:
        response = await self.call("POST", f"/api/v1/deliveries/{delivery_id}/receive", f"{recipient}.clerk")
        assert response.status_code == 200, response.text
        number = response.json()["receive_no"]
        self.history.received(delivery_id, number)
        return number

    async def receive_all(self, letters: list[dict], recipient: str, concurrency: int = 4) -> None:
        """ลงรับ of every given letter by one recipient, once each shows in its inbox."""
        org = (await self.org_ids())[recipient]
        wanted = {d["id"] for letter in letters for d in letter["deliveries"] if d["recipient_org_id"] == org}
        await self.until(lambda: self._in_inbox(recipient, wanted), f"{len(wanted)} letters in {recipient}'s inbox")
        gate = asyncio.Semaphore(concurrency)

        async def one(delivery_id: str) -> None:
            async with gate:
                await self.receive(recipient, delivery_id)

        await asyncio.gather(*(one(d) for d in sorted(wanted)))

    async def _in_inbox(self, recipient: str, wanted: set[str]) -> bool:
        return wanted <= {i["delivery_id"] for i in await self.pages("/api/v1/inbox", f"{recipient}.clerk")}

    async def until(self, condition, what: str, within: float | None = None) -> bool:
        """Waits for a condition; False (not an error) when it never came, so the checker can say what is
        missing."""
        deadline = time.monotonic() + (within or self.within)
        while time.monotonic() < deadline:
            if await condition():
                return True
            await asyncio.sleep(0.5)
        return False

    async def pages(self, url: str, user: str, **params) -> list[dict]:
        items, cursor = [], None
        while True:
            query = {"limit": 200, **params, **({"cursor": cursor} if cursor else {})}
            response = await self.call("GET", url, user, params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            if not (cursor := page.get("next_cursor")):
                return items

    async def quiet(self, within: float | None = None) -> bool:
        """Waits until every accepted letter is delivered and audited, and every receive audited."""
        return await self.until(self._settled, "the system to settle", within)

    async def _settled(self) -> bool:
        state = await self.final_state()
        shown = [d for deliveries in state.sender_view.values() for d in deliveries.values()]
        types = Counter(e["type"] for e in state.audit)
        expected_delivered = sum(len(d) for d in self.history.letters.values())
        return (
            all(d["status"] != "pending" for d in shown)
            and types["letter.sent"] >= len(self.history.letters)
            and types["delivery.delivered"] >= expected_delivered
            and types["delivery.received"] >= len(self.history.receives)
        )

    async def final_state(self) -> FinalState:
        orgs = await self.org_ids()
        sender_view = {
            letter["id"]: {d["id"]: d for d in letter["deliveries"]}
            for letter in await self.pages("/api/v1/outbox", SENDER)
        }
        inbox, registers = [], []
        for recipient in RECIPIENTS:
            user, org = f"{recipient}.clerk", orgs[recipient]
            inbox += [{**i, "org_id": org} for i in await self.pages("/api/v1/inbox", user)]
            registers += [{**r, "org_id": org} for r in await self.pages("/api/v1/registers/receive", user)]
        return FinalState(sender_view, inbox, registers, await self.audit_entries())

    async def audit_entries(self) -> list[dict]:
        entries, start = [], 0
        while True:
            response = await self.call("GET", "/api/v1/audit/entries", "auditor", params={"start": start})
            assert response.status_code == 200, response.text
            leaves = response.json()
            if not leaves:
                return entries
            for leaf in leaves:
                entry = json.loads(base64.b64decode(leaf["entry"]))
                entries.append({**entry, "type": re.sub(r"\.v\d+$", "", entry["type"])})  # letter.sent.v1
            start += len(leaves)
