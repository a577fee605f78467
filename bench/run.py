"""`make bench`: Sarabun in distributed mode (gateway + four services as OS processes on the local
PostgreSQL and RabbitMQ, moto as the object store), measured against the substrate's own limits.

Everything runs on its own RabbitMQ vhost, PostgreSQL database, ports and temporary folder, and is removed
at the end. BENCH_QUICK=1 shortens every phase for a run of a few minutes. Prints a table and writes
bench/results/latest.json; a figure that was not measured is null with the reason beside it.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import time
import traceback
import uuid
from pathlib import Path

import asyncpg
import httpx

from bench import baseline, cpu, deploy, flows, proofs, search, substrate, upload

QUICK = os.environ.get("BENCH_QUICK") == "1"
RESULTS = Path(__file__).resolve().parent / "results"

PLAN = {
    "rabbitmq_seconds": 5 if QUICK else 10,
    "postgres_seconds": 5 if QUICK else 10,
    "e2e_seconds": 15 if QUICK else 60,
    "e2e_workers": 16,
    "e2e_drain_limit": 90 if QUICK else 240,
    "latency_rate": 100,
    "latency_seconds": 10 if QUICK else 30,
    "latency_poll_s": 0.02,
    "latency_give_up_s": 60,
    "noop_requests": 1000,  # a p99 of 1,000 is their 10th slowest, not the 3rd of 300: steadier
    "fanout_units": 1000 if QUICK else 7850,
    "fanout_limit_s": 120 if QUICK else 300,
    "audit_leaves": 100_000 if QUICK else 1_000_000,
    "audit_proofs": 300 if QUICK else 2000,
    "audit_verified_sample": 30 if QUICK else 100,
    "search_letters": 100_000 if QUICK else 1_000_000,
    "search_rounds": 10 if QUICK else 40,
    "upload_mib": 256 if QUICK else 1024,
    "budget_s": 12 * 60 if QUICK else 45 * 60,
}

TARGETS = {
    "e2e.letters_per_s": "≥ 300",
    "e2e.p99_ms": "≤ 250 (at 100 letters/s)",
    "fanout.seconds": "≤ 10 (7,850 recipients)",
    "audit.inclusion_p99_ms": "≤ 5 (1,000,000 leaves)",
    "search.p99_ms": "≤ 100 (1,000,000 letters)",
    "upload.mb_per_s": "≥ 70% of raw disk",
    "upload.peak_rss_mb": "≤ 150",
}

KEYS = (
    "substrate.rabbitmq_per_s",
    "substrate.postgres_commits_per_s",
    "baseline.noop_p50_ms",
    "baseline.noop_p99_ms",
    "e2e.letters_per_s",
    "e2e.ratio_to_broker",
    "e2e.rate_at_70pct_per_s",
    "e2e.p50_ms_at_70pct",
    "e2e.p50_x_noop_at_70pct",
    "e2e.p99_ms_at_70pct",
    "e2e.p99_x_noop_at_70pct",
    "e2e.p50_ms",
    "e2e.p50_x_noop",
    "e2e.p99_ms",
    "e2e.p99_x_noop",
    "fanout.recipients",
    "fanout.seconds",
    "audit.leaves",
    "audit.inclusion_p99_ms",
    "audit.inclusion_p99_x_noop",
    "search.letters",
    "search.p99_ms",
    "search.p99_x_noop",
    "upload.mb_per_s",
    "upload.disk_mb_per_s",
    "upload.peak_rss_mb",
)

# Each latency figure again as a multiple of the no-op request measured in the same run: a p50 of the no-op's
# p50, a p99 of its p99. (multiple: (figure, baseline))
X_NOOP = {
    "e2e.p50_x_noop_at_70pct": ("e2e.p50_ms_at_70pct", "baseline.noop_p50_ms"),
    "e2e.p99_x_noop_at_70pct": ("e2e.p99_ms_at_70pct", "baseline.noop_p99_ms"),
    "e2e.p50_x_noop": ("e2e.p50_ms", "baseline.noop_p50_ms"),
    "e2e.p99_x_noop": ("e2e.p99_ms", "baseline.noop_p99_ms"),
    "audit.inclusion_p99_x_noop": ("audit.inclusion_p99_ms", "baseline.noop_p99_ms"),
    "search.p99_x_noop": ("search.p99_ms", "baseline.noop_p99_ms"),
}


class Results:
    def __init__(self) -> None:
        self.values: dict[str, float | int | None] = dict.fromkeys(KEYS)
        self.reasons: dict[str, str] = {}
        self.details: dict[str, dict] = {}

    def set(self, key: str, value) -> None:
        self.values[key] = round(value, 2 if abs(value) >= 1 else 4) if isinstance(value, float) else value

    def skip(self, keys, reason: str) -> None:
        for key in keys:
            if self.values.get(key) is None:
                self.reasons.setdefault(key, reason)

    def multiples(self) -> None:
        for key, (figure, base) in X_NOOP.items():
            if self.values[figure] is not None and self.values[base]:
                self.set(key, self.values[figure] / self.values[base])
            else:
                missing = figure if self.values[figure] is None else base
                self.skip([key], f"{missing}: {self.reasons.get(missing, 'not measured in this run')}")

    def sizes(self) -> dict:
        """The sizes this run measured at (quick runs use smaller ones than the targets name)."""
        upload_detail = self.details.get("upload", {}).get("upload", {})
        return {
            "fanout_recipients": self.values["fanout.recipients"],
            "audit_leaves": self.values["audit.leaves"],
            "search_letters": self.values["search.letters"],
            "upload_bytes": upload_detail.get("bytes"),
            "units": "upload.* figures are in MiB (2**20 bytes) and MiB/s",
        }

    def document(self) -> dict:
        self.skip([k for k in KEYS if self.values[k] is None], "not measured in this run")
        nested: dict[str, dict] = {}
        for key, value in self.values.items():
            section, name = key.split(".", 1)
            nested.setdefault(section, {})[name] = value
        return {
            **nested,
            "not_measured": {k: self.reasons[k] for k in KEYS if self.values[k] is None},
            "targets": TARGETS,
            "details": self.details,
            "machine": machine(),
            "quick": QUICK,
            "sizes": self.sizes(),
            "plan": PLAN,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def machine() -> dict:
    memory_mb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    cpu = platform.processor() or None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_mb": memory_mb,
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 1 else f"{value:.4f}"
    return f"{value:,}"


def table(doc: dict) -> str:
    """Each figure with its multiple of the no-op request beside it, where it has one."""

    def value(key: str):
        section, name = key.split(".", 1)
        return doc[section][name]

    multiple_of = {figure: key for key, (figure, _base) in X_NOOP.items()}
    lines = [
        f"{'figure':<34} {'measured':>12} {'× noop':>10}  target",
        f"{'-' * 34} {'-' * 12} {'-' * 10}  {'-' * 28}",
    ]
    for key in KEYS:
        if key in X_NOOP:
            continue
        times = value(multiple_of[key]) if key in multiple_of else None
        shown = f"×{times:,.1f}" if times is not None else ("—" if key in multiple_of else "")
        lines.append(f"{key:<34} {fmt(value(key)):>12} {shown:>10}  {TARGETS.get(key, '')}")
    m = doc["machine"]
    lines.append("")
    lines.append(
        f"machine: {m['nproc']} cores ({m['cpu']}), {m['memory_mb']:,} MB, Python {m['python']}, {m['os']}; "
        f"quick={doc['quick']}"
    )
    for key, reason in doc["not_measured"].items():
        if key not in X_NOOP:  # a multiple is missing because its figure is, named already
            lines.append(f"  {key}: {reason}")
    return "\n".join(lines)


def write(doc: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / "latest.json"
    tmp = RESULTS / "latest.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(target)
    return target


async def measure(results: Results, infra: deploy.Infra) -> None:
    started = time.monotonic()

    def time_left() -> float:
        return PLAN["budget_s"] - (time.monotonic() - started)

    say(f"RabbitMQ vhost {deploy.VHOST}")
    deploy.ensure_vhost()
    await deploy.clear_vhost_queues(extra=(substrate.ROUNDTRIP_QUEUE,))
    say(f"PostgreSQL database {infra.db_name}")
    await infra.create_database()

    # a. the substrate, before the services run so that they do not share the CPU with it
    say(f"substrate: RabbitMQ confirmed round trips for {PLAN['rabbitmq_seconds']} s (1 and 16 in flight)")
    one = await substrate.rabbitmq_round_trips(PLAN["rabbitmq_seconds"] / 2, in_flight=1)
    many = await substrate.rabbitmq_round_trips(PLAN["rabbitmq_seconds"], in_flight=16)
    results.details["rabbitmq"] = {"sequential": one, "concurrent": many}
    results.set("substrate.rabbitmq_per_s", many["per_s"])
    say(f"  {one['per_s']:.0f}/s one at a time, {many['per_s']:.0f}/s with 16 in flight")

    say(f"substrate: PostgreSQL single-row commits for {PLAN['postgres_seconds']} s (1 and 10 sessions)")
    pg_one = await substrate.postgres_commits(infra.db_url, PLAN["postgres_seconds"] / 2, workers=1)
    pg_many = await substrate.postgres_commits(infra.db_url, PLAN["postgres_seconds"], workers=10)
    results.details["postgres"] = {"sequential": pg_one, "concurrent": pg_many}
    results.set("substrate.postgres_commits_per_s", pg_many["per_s"])
    say(f"  {pg_one['per_s']:.0f}/s one session, {pg_many['per_s']:.0f}/s with 10 sessions")

    say("starting moto's S3 server and the gateway + 4 services as processes")
    await infra.start_s3()
    await infra.start_deployment()
    say(f"deployment ready: gateway {infra.gateway_url}, data {infra.data_dir}")

    pg = await asyncpg.connect(infra.db_plain_url, timeout=10)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    try:
        async with httpx.AsyncClient(base_url=infra.gateway_url, timeout=60, limits=limits) as api:
            ops = await flows.login(api, "ops.clerk")
            cgd = await flows.login(api, "cgd.clerk")
            orgs = await flows.org_ids(api, ops)
            # one letter through first, so that connections and caches are warm
            warm = await api.post("/api/v1/letters", headers=ops, json=flows._letter("หนังสืออุ่นเครื่อง", orgs["cgd"]))
            warm.raise_for_status()
            await asyncio.sleep(1)

            # the yardstick, on the idle deployment, before any latency phase
            await noop_baseline(results, api, ops, "before")

            # b. end-to-end throughput
            say(f"e2e: {PLAN['e2e_workers']} clients POST letters ops → cgd for {PLAN['e2e_seconds']} s")
            with cpu.CpuAccount(infra.pids()) as account:
                e2e = await flows.e2e_throughput(
                    api, pg, ops, cgd, orgs["cgd"], PLAN["e2e_seconds"], PLAN["e2e_workers"], PLAN["e2e_drain_limit"]
                )
            e2e["cpu"] = account.per_item(e2e["complete"])
            results.details["e2e_throughput"] = e2e
            if e2e["letters_per_s"] is not None:
                results.set("e2e.letters_per_s", e2e["letters_per_s"])
                results.set("e2e.ratio_to_broker", e2e["letters_per_s"] / many["per_s"])
            say(
                f"  {e2e['accepted']} accepted ({e2e['accepted_per_s']:.1f}/s), {e2e['complete']} delivered and "
                f"audited, {e2e['visible_in_inbox']} visible in the inbox; {fmt(e2e['letters_per_s'])} letters/s"
            )
            if costs := e2e["cpu"]["cpu_ms_per_item"]:
                shares = ", ".join(f"{name} {ms:.1f}" for name, ms in sorted(costs.items(), key=lambda kv: -kv[1]))
                say(f"  CPU ms per letter: {shares}; all cores busy {e2e['cpu']['busy_share_of_all_cores']:.0%}")

            # c. latency below capacity first (no backlog yet): what a clerk sees when the system is not overloaded
            if e2e["letters_per_s"] and time_left() > PLAN["latency_seconds"] + 120:
                rate = max(1, int(e2e["letters_per_s"] * 0.7))
                say(f"latency: {rate} letters/s (70% of the throughput just measured) for {PLAN['latency_seconds']} s")
                calm = await flows.e2e_latency(
                    api, pg, ops, cgd, orgs["cgd"], rate, PLAN["latency_seconds"], PLAN["latency_poll_s"], 60
                )
                results.details["e2e_latency_below_capacity"] = calm
                results.set("e2e.rate_at_70pct_per_s", rate)
                results.set("e2e.p50_ms_at_70pct", calm["p50_ms"])
                results.set("e2e.p99_ms_at_70pct", calm["p99_ms"])
                if calm["p99_ms"] is None:
                    results.skip(["e2e.p50_ms_at_70pct", "e2e.p99_ms_at_70pct"], unseen(calm))
                seen = f"{calm['seen']}/{calm['letters']} seen"
                say(f"  p50 {fmt(calm['p50_ms'])} ms, p99 {fmt(calm['p99_ms'])} ms, {seen}")
            else:
                reason = "no throughput measured" if not e2e["letters_per_s"] else "the run's time budget was spent"
                at_70 = ["e2e.rate_at_70pct_per_s", "e2e.p50_ms_at_70pct", "e2e.p99_ms_at_70pct"]
                results.skip(at_70, f"skipped: {reason}")

            # c. latency at a fixed rate
            if time_left() > PLAN["latency_seconds"] + 60:
                say(f"latency: {PLAN['latency_rate']} letters/s for {PLAN['latency_seconds']} s")
                await asyncio.sleep(2)
                lat = await flows.e2e_latency(
                    api,
                    pg,
                    ops,
                    cgd,
                    orgs["cgd"],
                    PLAN["latency_rate"],
                    PLAN["latency_seconds"],
                    PLAN["latency_poll_s"],
                    PLAN["latency_give_up_s"],
                )
                results.details["e2e_latency"] = lat
                results.set("e2e.p50_ms", lat["p50_ms"])
                results.set("e2e.p99_ms", lat["p99_ms"])
                if lat["p99_ms"] is None:
                    results.skip(["e2e.p50_ms", "e2e.p99_ms"], unseen(lat))
                say(f"  p50 {fmt(lat['p50_ms'])} ms, p99 {fmt(lat['p99_ms'])} ms, {lat['seen']}/{lat['letters']} seen")
            else:
                results.skip(["e2e.p50_ms", "e2e.p99_ms"], "skipped: the run's time budget was spent")

            # d. fan-out, once the letters of the latency phases are through: an overloaded 100/s phase leaves a
            # backlog that the circular would otherwise wait behind
            settled = await flows.settle(pg, limit_s=max(0, min(180, time_left() - 90)))
            results.details.setdefault("settled_before", {})["fanout"] = settled
            if time_left() > 90:
                units = PLAN["fanout_units"]
                say(f"fan-out: {units} synthetic units added to routing's directory, one circular to all")
                group, unit_ids = await flows.add_synthetic_units(pg, units)
                await asyncio.sleep(2)
                out = await flows.fanout(api, pg, ops, group, unit_ids, min(PLAN["fanout_limit_s"], time_left()))
                results.details["fanout"] = out
                if "error" in out:
                    results.skip(["fanout.recipients", "fanout.seconds"], f"the circular was refused: {out['error']}")
                else:
                    results.set("fanout.recipients", out["recipients"])
                    results.set("fanout.seconds", out["seconds"])
                    if out["refusal"]:
                        results.reasons["fanout.note"] = out["refusal"]
                    if out["seconds"] is None:
                        results.skip(
                            ["fanout.seconds"],
                            f"not all delivered within the limit: {out['delivered']}/{out['recipients']}",
                        )
                    say(
                        f"  {out['recipients']} recipients ({out['attempted']} attempted): "
                        f"{fmt(out['seconds'])} s to deliver all; audit leaves {out['audit_leaves']}"
                    )
            else:
                results.skip(["fanout.recipients", "fanout.seconds"], "skipped: the run's time budget was spent")

            # e-g. the phases on seeded data and the large upload, each skipped when the budget is spent
            for section, phase, needs_s in SEEDED_PHASES:
                settled = await flows.settle(pg, limit_s=max(0, min(180, time_left() - needs_s)))
                results.details.setdefault("settled_before", {})[section.rstrip(".")] = settled
                if time_left() > needs_s:
                    await phase(results, infra, api, pg, orgs)
                else:
                    results.skip([k for k in KEYS if k.startswith(section)], "skipped: the run's time budget was spent")

            # the yardstick again: how far the machine drifted during the run (the multiples use the first)
            await noop_baseline(results, api, await flows.login(api, "ops.clerk"), "after")  # a token of 30 min
    finally:
        await pg.close()


async def noop_baseline(results: Results, api: httpx.AsyncClient, headers: dict, when: str) -> None:
    say(f"baseline: {PLAN['noop_requests']} no-op requests through the gateway to audit, one at a time ({when})")
    noop = await baseline.noop_latency(api, headers, PLAN["noop_requests"])
    results.details.setdefault("baseline", {})[when] = noop
    if when == "before":
        results.details["baseline"]["x_noop"] = "a p50 divided by baseline.noop_p50_ms, a p99 by noop_p99_ms"
        results.set("baseline.noop_p50_ms", noop["p50_ms"])
        results.set("baseline.noop_p99_ms", noop["p99_ms"])
    say(f"  {noop['route']}: p50 {fmt(noop['p50_ms'])} ms, p99 {fmt(noop['p99_ms'])} ms")


def unseen(latency: dict) -> str:
    """Why a latency percentile is unknown: letters not in the inbox when the bench gave up on them."""
    give_up = latency["give_up_s"]
    return (
        f"above {give_up * 1000:,} ms: {latency['unseen_within_give_up']} of {latency['letters']} letters not in "
        f"the inbox within {give_up} s"
    )


async def audit_proofs(
    results: Results, infra: deploy.Infra, api: httpx.AsyncClient, pg: asyncpg.Connection, orgs: dict
) -> None:
    count = PLAN["audit_leaves"]
    say(f"audit: {count:,} leaves appended in bulk, then inclusion proofs through the gateway as the auditor")
    recipients = [uuid.UUID(orgs[key]) for key in sorted(orgs) if key not in ("mof", "ops")]
    seeded = await proofs.seed_leaves(pg, count, uuid.UUID(orgs["ops"]), recipients)
    say(f"  seeded in {seeded['seconds']:.1f} s; log size {seeded['size']:,}")
    auditor = await flows.login(api, "auditor")
    timed = await proofs.time_proofs(api, auditor, PLAN["audit_proofs"], PLAN["audit_verified_sample"])
    results.details["audit_proofs"] = {"seed": seeded, **timed}
    results.set("audit.leaves", timed["tree_size"])
    results.set("audit.inclusion_p99_ms", timed["p99_ms"])
    say(
        f"  {timed['requests']} proofs at {timed['tree_size']:,} leaves: p50 {fmt(timed['p50_ms'])} ms, "
        f"p99 {fmt(timed['p99_ms'])} ms; {timed['verified']} checked against the signed root"
    )


async def subject_search(
    results: Results, infra: deploy.Infra, api: httpx.AsyncClient, pg: asyncpg.Connection, orgs: dict
) -> None:
    count = PLAN["search_letters"]
    say(f"search: {count:,} letters ops → cgd loaded in bulk, then Thai fragments searched as both clerks")
    ops_id, cgd_id = uuid.UUID(orgs["ops"]), uuid.UUID(orgs["cgd"])
    # The run's own connection: a server whose connection slots are all taken must not stop the phase.
    code = await pg.fetchval("SELECT code FROM routing.orgs WHERE id = $1", ops_id)
    seeded = await search.seed_letters(pg, count, ops_id, code, cgd_id)
    say(f"  loaded in {seeded['load_seconds']:.1f} s, trigram indexes built in {seeded['index_seconds']:.1f} s")
    where = {
        "inbox": ("/api/v1/inbox", await flows.login(api, "cgd.clerk")),
        "outbox": ("/api/v1/outbox", await flows.login(api, "ops.clerk")),
    }
    timed = await search.time_searches(api, where, PLAN["search_rounds"])
    results.details["search"] = {"seed": seeded, "fragments": list(search.FRAGMENTS), **timed}
    results.set("search.letters", count)
    results.set("search.p99_ms", timed["p99_ms"])
    by = timed["by_endpoint"]
    say(
        f"  {timed['requests']} searches: p50 {fmt(timed['p50_ms'])} ms, p99 {fmt(timed['p99_ms'])} ms "
        f"(inbox p99 {fmt(by['inbox']['p99_ms'])}, outbox p99 {fmt(by['outbox']['p99_ms'])})"
    )


async def large_upload(
    results: Results, infra: deploy.Infra, api: httpx.AsyncClient, pg: asyncpg.Connection, orgs: dict
) -> None:
    size = PLAN["upload_mib"] * upload.MiB
    say(f"upload: {PLAN['upload_mib']:,} MiB written to disk with fsync, then streamed through the gateway to moto")
    disk = await asyncio.to_thread(upload.disk_write, infra.data_dir, size)
    results.set("upload.disk_mb_per_s", disk["mib_per_s"])
    pids = infra.pids()
    # Signed in first: a sign-in's Argon2 hash takes 64 MiB for a moment, which is not the upload's.
    headers = await flows.login(api, "ops.clerk")
    with upload.PeakMemory({name: pids[name] for name in ("gateway", "storage", "moto")}) as peak:
        sent = await upload.upload(api, headers, size)
    memory = peak.result()
    product = max(memory[name]["peak_rss_mib"] or 0 for name in ("gateway", "storage"))
    results.details["upload"] = {"disk": disk, "upload": sent, "memory": memory, "object_store": "moto (in memory)"}
    results.set("upload.mb_per_s", sent["mib_per_s"])
    results.set("upload.peak_rss_mb", product)
    say(
        f"  disk {disk['mib_per_s']:.0f} MiB/s; upload {sent['mib_per_s']:.0f} MiB/s in {sent['seconds']:.1f} s; "
        f"peak RSS gateway {fmt(memory['gateway']['peak_rss_mib'])} MiB, storage "
        f"{fmt(memory['storage']['peak_rss_mib'])} MiB (moto {fmt(memory['moto']['peak_rss_mib'])} MiB)"
    )


# (results section, phase, seconds of budget it needs at least), in the order they run.
SEEDED_PHASES = (
    ("audit.", audit_proofs, 150 if QUICK else 300),
    ("search.", subject_search, 120 if QUICK else 480),
    ("upload.", large_upload, 60 if QUICK else 180),
)


async def main() -> int:
    results = Results()
    infra = deploy.Infra()
    failed = None
    say(f"{'quick' if QUICK else 'full'} run on {machine()['nproc']} cores; everything on 127.0.0.1")
    try:
        await measure(results, infra)
    except Exception as exc:  # noqa: BLE001 - what was measured is still written, with the failure
        failed = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
        results.skip(KEYS, f"not measured: the run stopped early ({failed[:300]})")
    finally:
        say("stopping the processes, dropping the database, removing the temporary folder")
        try:
            await deploy.clear_vhost_queues(extra=(substrate.ROUNDTRIP_QUEUE,))
        except Exception as exc:  # noqa: BLE001
            say(f"could not empty the bench vhost's queues: {exc}")
        await infra.close()
    results.multiples()
    doc = results.document()
    if failed:
        doc["error"] = failed
    print()
    print(table(doc))
    say(f"written {write(doc)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
