"""End-to-end measurements through the public API of the running deployment, with completion checked in
the bench database (routing's deliveries, audit's leaves) and, for visibility, in the recipient's inbox."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

PASSWORD = "sarabun-demo"


async def login(api: httpx.AsyncClient, username: str) -> dict:
    response = await api.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def org_ids(api: httpx.AsyncClient, headers: dict) -> dict[str, str]:
    response = await api.get("/api/v1/orgs", headers=headers)
    response.raise_for_status()
    return {org["key"]: org["id"] for org in response.json()}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


async def _complete(pg: asyncpg.Connection, letter_ids: list[uuid.UUID], recipient: uuid.UUID) -> tuple[int, int]:
    """(letters delivered to the recipient, letters whose delivery.delivered leaf is in the audit log)."""
    delivered = await pg.fetchval(
        "SELECT count(*) FROM routing.deliveries WHERE letter_id = ANY($1::uuid[]) AND recipient_org_id = $2 "
        "AND delivered_at IS NOT NULL",
        letter_ids,
        recipient,
    )
    audited = await pg.fetchval(
        "SELECT count(DISTINCT letter_id) FROM audit.leaves WHERE letter_id = ANY($1::uuid[]) "
        "AND type LIKE 'delivery.delivered%'",
        letter_ids,
    )
    return delivered, audited


async def _both(pg: asyncpg.Connection, letter_ids: list[uuid.UUID], recipient: uuid.UUID) -> int:
    return await pg.fetchval(
        "SELECT count(*) FROM routing.deliveries d WHERE d.letter_id = ANY($1::uuid[]) AND d.recipient_org_id = $2 "
        "AND d.delivered_at IS NOT NULL AND EXISTS (SELECT 1 FROM audit.leaves l WHERE l.delivery_id = d.id "
        "AND l.type LIKE 'delivery.delivered%')",
        letter_ids,
        recipient,
    )


def _letter(subject: str, recipient: str) -> dict:
    return {
        "type": "external",
        "subject": subject,
        "recipient_org_ids": [recipient],
        "urgency": "normal",
        "secrecy": "normal",
    }


async def inbox_count(api: httpx.AsyncClient, headers: dict, q: str, limit_pages: int = 500) -> int:
    """How many letters matching q the recipient sees in its inbox (every page)."""
    seen, cursor = 0, None
    for _ in range(limit_pages):
        params = {"q": q, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await api.get("/api/v1/inbox", headers=headers, params=params)
        response.raise_for_status()
        page = response.json()
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    return seen


async def e2e_throughput(api, pg, sender, recipient_headers, recipient_id, seconds, workers, drain_limit) -> dict:
    """`workers` clients POST letters back to back for `seconds`; then the run waits (at most drain_limit)
    until every accepted letter is delivered and audited. Rate = complete letters / (first POST → last
    completion)."""
    tag = f"bench{uuid.uuid4().hex[:8]}"
    accepted: list[uuid.UUID] = []
    refused: dict[int, int] = {}
    counter = 0
    started = time.monotonic()
    stop_at = started + seconds

    async def worker() -> None:
        nonlocal counter
        while time.monotonic() < stop_at:
            counter += 1
            subject = f"หนังสือทดสอบสมรรถนะ [{tag}-{counter:07d}]"
            try:
                response = await api.post("/api/v1/letters", headers=sender, json=_letter(subject, recipient_id))
            except httpx.HTTPError:
                refused[-1] = refused.get(-1, 0) + 1
                continue
            if response.status_code == 201:
                accepted.append(uuid.UUID(response.json()["id"]))
            else:
                refused[response.status_code] = refused.get(response.status_code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    posted_for = time.monotonic() - started
    rid = uuid.UUID(recipient_id)
    done, finished = 0, None
    deadline = time.monotonic() + drain_limit
    while time.monotonic() < deadline:
        done = await _both(pg, accepted, rid)
        if done >= len(accepted):
            finished = time.monotonic()
            break
        await asyncio.sleep(0.1)
    end = finished or time.monotonic()
    delivered, audited = await _complete(pg, accepted, rid)
    visible = await inbox_count(api, recipient_headers, tag)
    return {
        "letters_per_s": done / (end - started) if accepted else None,
        "accepted": len(accepted),
        "accepted_per_s": len(accepted) / posted_for,
        "refused": {str(k): v for k, v in refused.items()},
        "complete": done,
        "delivered": delivered,
        "audited": audited,
        "visible_in_inbox": visible,
        "post_seconds": posted_for,
        "drain_seconds": end - started - posted_for,
        "all_complete": finished is not None,
        "workers": workers,
    }


async def e2e_latency(api, pg, sender, recipient_headers, recipient_id, rate, seconds, poll_interval, give_up) -> dict:
    """A letter every 1/rate seconds for `seconds`. Latency = POST sent → its delivery to the recipient
    committed, which is the moment the recipient's inbox query can return it. One watcher asks the bench
    database about every letter in flight each `poll_interval`, so watching adds almost nothing to the load
    being measured (polling the inbox through the API for each letter did: at 40 letters/s those polls were
    most of the work). At the end the recipient's inbox is read through the API to confirm every letter is
    there."""
    tag = f"lat{uuid.uuid4().hex[:8]}"
    rid = uuid.UUID(recipient_id)
    in_flight: dict[uuid.UUID, float] = {}
    latencies: list[float] = []
    post_ms: list[float] = []
    failures: dict[str, int] = {}
    lag = 0.0
    posting = True

    async def one(i: int) -> None:
        t0 = time.monotonic()
        try:
            subject = f"หนังสือวัดเวลา [{tag}-{i:06d}]"
            response = await api.post("/api/v1/letters", headers=sender, json=_letter(subject, recipient_id))
        except httpx.HTTPError:
            failures["post_error"] = failures.get("post_error", 0) + 1
            return
        if response.status_code != 201:
            failures[str(response.status_code)] = failures.get(str(response.status_code), 0) + 1
            return
        post_ms.append((time.monotonic() - t0) * 1000)
        in_flight[uuid.UUID(response.json()["id"])] = t0

    async def watch() -> None:
        last_post = time.monotonic()
        while posting or (in_flight and time.monotonic() - last_post < give_up):
            if posting:
                last_post = time.monotonic()
            if in_flight:
                rows = await pg.fetch(
                    "SELECT letter_id FROM routing.deliveries WHERE letter_id = ANY($1::uuid[]) "
                    "AND recipient_org_id = $2 AND delivered_at IS NOT NULL",
                    list(in_flight),
                    rid,
                )
                now = time.monotonic()
                for row in rows:
                    latencies.append((now - in_flight.pop(row["letter_id"])) * 1000)
            await asyncio.sleep(poll_interval)

    watcher = asyncio.create_task(watch())
    tasks = []
    start = time.monotonic()
    count = int(rate * seconds)
    for i in range(count):
        due = start + i / rate
        now = time.monotonic()
        if due > now:
            await asyncio.sleep(due - now)
        else:
            lag = max(lag, now - due)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    posting = False
    await watcher
    # Letters never seen count as slower than every seen one, so a percentile they reach is unknown (None).
    unseen = count - len(latencies)
    ranked = sorted(latencies) + [float("inf")] * unseen
    p50, p99 = percentile(ranked, 50), percentile(ranked, 99)
    if in_flight:
        failures["not_seen"] = len(in_flight)
    return {
        "p50_ms": p50 if p50 != float("inf") else None,
        "p99_ms": p99 if p99 != float("inf") else None,
        "seen_p50_ms": statistics.median(latencies) if latencies else None,
        "seen_p99_ms": percentile(latencies, 99),
        "unseen_within_give_up": unseen,
        "give_up_s": give_up,
        "max_ms": max(latencies) if latencies else None,
        "post_p50_ms": statistics.median(post_ms) if post_ms else None,
        "post_p99_ms": percentile(post_ms, 99),
        "letters": count,
        "seen": len(latencies),
        "visible_in_inbox": await inbox_count(api, recipient_headers, tag),
        "failures": failures,
        "rate_per_s": rate,
        "seconds": seconds,
        "poll_interval_ms": poll_interval * 1000,
        "seen_when": "the delivery to the recipient committed (routing.deliveries.delivered_at set)",
        "max_schedule_lag_ms": lag * 1000,
    }


async def add_synthetic_units(pg: asyncpg.Connection, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """N divisions under the ministry, straight into routing's directory and intake's copy of it (as the
    `directory.unit.added` events would have put them), and a recipient group of them."""
    ministry = await pg.fetchval("SELECT id FROM routing.orgs WHERE kind = 'ministry' ORDER BY code LIMIT 1")
    if ministry is None:
        raise RuntimeError("no ministry in routing.orgs")
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        (u, f"bench-unit-{n:05d}", f"กค 9{n:05d}", f"หน่วยงานทดสอบ {n}", "division", ministry) for n, u in enumerate(ids)
    ]
    await pg.copy_records_to_table(
        "orgs", schema_name="routing", records=rows, columns=["id", "key", "code", "name", "kind", "parent_id"]
    )
    known = [(u, ministry, "division", datetime.now(UTC)) for u in ids]
    await pg.copy_records_to_table(
        "directory_units",
        schema_name="intake",
        records=known,
        columns=["org_id", "parent_org_id", "kind", "as_of"],
    )
    group = uuid.uuid4()
    await pg.execute(
        "INSERT INTO routing.groups (id, key, name) VALUES ($1, $2, $3)", group, "bench-fanout", "ทดสอบหนังสือเวียน"
    )
    await pg.copy_records_to_table(
        "group_members", schema_name="routing", records=[(group, u) for u in ids], columns=["group_id", "org_id"]
    )
    return group, ids


async def fanout(api, pg, sender, group_id, unit_ids, limit_seconds, max_direct=10_000) -> dict:
    """A circular to every synthetic unit through the recipient group; time from the POST until every
    delivery is delivered. If the API refuses that many recipients, the largest count it accepts instead."""
    body = {
        "type": "external",
        "subject": f"หนังสือเวียนทดสอบ [{uuid.uuid4().hex[:8]}]",
        "recipient_group_ids": [str(group_id)],
        "circular": True,
        "urgency": "normal",
        "secrecy": "normal",
    }
    attempted = len(unit_ids)
    refusal = None
    t0 = time.monotonic()
    response = await api.post("/api/v1/letters", headers=sender, json=body)
    if response.status_code != 201 and len(unit_ids) > max_direct:
        refusal = f"{len(unit_ids)} recipients refused with {response.status_code}: {response.text[:300]}"
        unit_ids = unit_ids[:max_direct]
        body = {**{k: v for k, v in body.items() if k != "recipient_group_ids"}}
        body["recipient_org_ids"] = [str(u) for u in unit_ids]
        t0 = time.monotonic()
        response = await api.post("/api/v1/letters", headers=sender, json=body)
    post_seconds = time.monotonic() - t0
    if response.status_code != 201:
        return {"error": f"POST answered {response.status_code}: {response.text[:300]}", "attempted": attempted}
    letter_id = uuid.UUID(response.json()["id"])
    expected = len(response.json()["deliveries"])
    delivered, finished = 0, None
    deadline = t0 + limit_seconds
    while time.monotonic() < deadline:
        delivered = await pg.fetchval(
            "SELECT count(*) FROM routing.deliveries WHERE letter_id = $1 AND delivered_at IS NOT NULL", letter_id
        )
        if delivered >= expected:
            finished = time.monotonic()
            break
        await asyncio.sleep(0.05)
    audited_deadline = time.monotonic() + limit_seconds
    audited = 0
    while time.monotonic() < audited_deadline:
        audited = await pg.fetchval(
            "SELECT count(*) FROM audit.leaves WHERE letter_id = $1 AND type LIKE 'delivery.delivered%'", letter_id
        )
        if audited >= expected:
            break
        await asyncio.sleep(0.1)
    audited_seconds = time.monotonic() - t0
    return {
        "recipients": expected,
        "attempted": attempted,
        "refusal": refusal,
        "seconds": (finished - t0) if finished else None,
        "delivered": delivered,
        "all_delivered": finished is not None,
        "post_seconds": post_seconds,
        "audit_leaves": audited,
        "audited_seconds": audited_seconds if audited >= expected else None,
        "letter_id": str(letter_id),
    }


async def settle(pg: asyncpg.Connection, quiet_s: float = 3.0, limit_s: float = 180.0) -> dict:
    """Waits until the deployment has caught up with what earlier phases sent (no new delivery and no new
    audit leaf for `quiet_s`), so that a backlog is not measured as part of the next phase."""
    started = time.monotonic()
    last, still_since = None, time.monotonic()
    while time.monotonic() - started < limit_s:
        now = (
            await pg.fetchval("SELECT count(*) FROM routing.deliveries"),
            await pg.fetchval("SELECT coalesce(max(size), 0) FROM audit.log_state"),
        )
        if now != last:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= quiet_s:
            return {"seconds": time.monotonic() - started, "settled": True}
        await asyncio.sleep(0.5)
    return {"seconds": time.monotonic() - started, "settled": False}
