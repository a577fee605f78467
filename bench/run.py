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
from pathlib import Path

import asyncpg
import httpx

from bench import deploy, flows, substrate

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
    "fanout_units": 1000 if QUICK else 7850,
    "fanout_limit_s": 120 if QUICK else 300,
    "budget_s": 12 * 60 if QUICK else 35 * 60,
}

TARGETS = {
    "e2e.letters_per_s": "≥ 300",
    "e2e.p99_ms": "≤ 250",
    "fanout.seconds": "≤ 10 (7,850 recipients)",
    "audit.inclusion_p99_ms": "≤ 5 (1,000,000 leaves)",
    "search.p99_ms": "≤ 100 (1,000,000 letters)",
    "upload.mb_per_s": "≥ 70% of raw disk",
    "upload.peak_rss_mb": "≤ 150",
}

KEYS = (
    "substrate.rabbitmq_per_s",
    "substrate.postgres_commits_per_s",
    "e2e.letters_per_s",
    "e2e.ratio_to_broker",
    "e2e.p50_ms",
    "e2e.p99_ms",
    "fanout.recipients",
    "fanout.seconds",
    "audit.leaves",
    "audit.inclusion_p99_ms",
    "search.letters",
    "search.p99_ms",
    "upload.mb_per_s",
    "upload.disk_mb_per_s",
    "upload.peak_rss_mb",
)

NOT_BUILT = {
    "audit.": "not measured yet: the bench does not yet seed 1,000,000 leaves and time inclusion proofs",
    "search.": "not measured yet: the bench does not yet seed 1,000,000 letters and time Thai subject search",
    "upload.": "not measured yet: the bench does not yet run the 1 GB upload against a raw disk write",
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

    def document(self) -> dict:
        for prefix, reason in NOT_BUILT.items():
            self.skip([k for k in KEYS if k.startswith(prefix)], reason)
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
    lines = [f"{'figure':<34} {'measured':>12}  target", f"{'-' * 34} {'-' * 12}  {'-' * 28}"]
    for key in KEYS:
        section, name = key.split(".", 1)
        lines.append(f"{key:<34} {fmt(doc[section][name]):>12}  {TARGETS.get(key, '')}")
    m = doc["machine"]
    lines.append("")
    lines.append(
        f"machine: {m['nproc']} cores ({m['cpu']}), {m['memory_mb']:,} MB, Python {m['python']}, {m['os']}; "
        f"quick={doc['quick']}"
    )
    for key, reason in doc["not_measured"].items():
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

            # b. end-to-end throughput
            say(f"e2e: {PLAN['e2e_workers']} clients POST letters ops → cgd for {PLAN['e2e_seconds']} s")
            e2e = await flows.e2e_throughput(
                api, pg, ops, cgd, orgs["cgd"], PLAN["e2e_seconds"], PLAN["e2e_workers"], PLAN["e2e_drain_limit"]
            )
            results.details["e2e_throughput"] = e2e
            if e2e["letters_per_s"] is not None:
                results.set("e2e.letters_per_s", e2e["letters_per_s"])
                results.set("e2e.ratio_to_broker", e2e["letters_per_s"] / many["per_s"])
            say(
                f"  {e2e['accepted']} accepted ({e2e['accepted_per_s']:.1f}/s), {e2e['complete']} delivered and "
                f"audited, {e2e['visible_in_inbox']} visible in the inbox; {fmt(e2e['letters_per_s'])} letters/s"
            )

            # c. latency at a fixed rate
            if time_left() > PLAN["latency_seconds"] + 60:
                say(f"latency: {PLAN['latency_rate']} letters/s for {PLAN['latency_seconds']} s, inbox polled")
                await asyncio.sleep(2)
                lat = await flows.e2e_latency(
                    api,
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
                    results.skip(
                        ["e2e.p50_ms", "e2e.p99_ms"],
                        f"above {PLAN['latency_give_up_s'] * 1000:,} ms: {lat['unseen_within_give_up']} of "
                        f"{lat['letters']} letters not in the inbox within {PLAN['latency_give_up_s']} s",
                    )
                say(f"  p50 {fmt(lat['p50_ms'])} ms, p99 {fmt(lat['p99_ms'])} ms, {lat['seen']}/{lat['letters']} seen")
            else:
                results.skip(["e2e.p50_ms", "e2e.p99_ms"], "skipped: the run's time budget was spent")

            # d. fan-out
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
    finally:
        await pg.close()


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
    doc = results.document()
    if failed:
        doc["error"] = failed
    print()
    print(table(doc))
    say(f"written {write(doc)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
