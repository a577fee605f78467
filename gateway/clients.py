"""How the gateway reaches the services: HTTP with a principal token, whatever the transport (a network
address in distributed mode, the service's ASGI app in embedded mode)."""

from __future__ import annotations

import logging

import httpx

from shared.principal import HEADER, Principal, internal_token
from shared.problems import PROBLEM_JSON, Problem
from shared.web import CORRELATION_HEADER, correlation_id

log = logging.getLogger("sarabun.gateway.clients")

SERVICES = ("intake", "routing", "storage", "audit", "notify")


class Services:
    def __init__(self, clients: dict[str, httpx.AsyncClient], service_secret: str):
        self.clients = clients
        self.secret = service_secret

    def headers(self, who: Principal, extra: dict | None = None) -> dict:
        headers = {HEADER: internal_token(who, self.secret)}
        if cid := correlation_id.get():
            headers[CORRELATION_HEADER] = cid
        return {**headers, **(extra or {})}

    async def call(self, service: str, method: str, path: str, who: Principal, *, headers=None, **kwargs):
        """One internal call; its 4xx problems reach the client as they are, failures become 502/503."""
        try:
            response = await self.clients[service].request(method, path, headers=self.headers(who, headers), **kwargs)
        except httpx.TransportError as exc:
            log.warning("%s unreachable: %s", service, exc)
            raise Problem(503, f"บริการ {service} ไม่พร้อมใช้งาน โปรดลองใหม่ (service unavailable)") from exc
        raise_for_problem(service, response)
        return response

    async def json(self, service: str, method: str, path: str, who: Principal, **kwargs):
        return (await self.call(service, method, path, who, **kwargs)).json()

    async def open_stream(self, service: str, path: str, who: Principal) -> httpx.Response:
        """A streamed GET; the caller must close the response."""
        client = self.clients[service]
        try:
            response = await client.send(client.build_request("GET", path, headers=self.headers(who)), stream=True)
        except httpx.TransportError as exc:
            raise Problem(503, f"บริการ {service} ไม่พร้อมใช้งาน โปรดลองใหม่ (service unavailable)") from exc
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise_for_problem(service, response)
        return response

    async def ready(self) -> bool:
        for client in self.clients.values():
            try:
                if (await client.get("/readyz")).status_code != 200:
                    return False
            except httpx.TransportError:
                return False
        return True

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def raise_for_problem(service: str, response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    if response.status_code == 401:  # the gateway's own service token was refused: a configuration fault
        log.error("%s refused the service token; check SARABUN_SERVICE_SECRET", service)
        raise Problem(502, f"บริการ {service} ปฏิเสธการเชื่อมต่อภายใน (upstream refused the gateway)")
    if response.status_code < 500 and response.headers.get("content-type", "").startswith(PROBLEM_JSON):
        body = response.json()
        raise Problem(response.status_code, body.get("detail", ""), errors=body.get("errors"))
    if response.status_code == 503:
        raise Problem(503, f"บริการ {service} ไม่พร้อมใช้งาน โปรดลองใหม่ (service unavailable)")
    log.error("%s answered %s: %s", service, response.status_code, response.text[:500])
    raise Problem(502, f"บริการ {service} ขัดข้อง (upstream error)")
