"""The yardstick the latency figures are divided by: an authenticated request that does no work, through the
gateway to a service and back, timed in the same run with the same client. The machines are shared, so an
absolute time moves with the neighbours' load; a multiple of this baseline moves much less."""

from __future__ import annotations

import time

import httpx

from bench.flows import percentile

# No route exists only to do nothing, and the bench adds none to the API. The audit service's public key is
# the nearest: the gateway checks the token (its account cache, warm after the first request) and the
# permission and forwards the call; audit checks the principal and answers the key it holds in memory. No
# database read on either side, a body of about a hundred bytes.
ROUTE = "/api/v1/audit/public-key"


async def noop_latency(api: httpx.AsyncClient, headers: dict, requests: int, warmup: int = 50) -> dict:
    """`requests` calls of ROUTE one at a time after `warmup` untimed ones."""
    for _ in range(warmup):
        (await api.get(ROUTE, headers=headers)).raise_for_status()
    timings = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = await api.get(ROUTE, headers=headers)
        timings.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return {
        "route": f"GET {ROUTE}",
        "path": "bench → gateway (token, permission) → audit (the key it holds in memory) → gateway → bench",
        "requests": requests,
        "warmup": warmup,
        "p50_ms": percentile(timings, 50),
        "p90_ms": percentile(timings, 90),
        "p99_ms": percentile(timings, 99),
        "max_ms": max(timings),
    }
