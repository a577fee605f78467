"""What every HTTP app shares: problem+json errors, /healthz, /readyz, /metrics, a correlation id."""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from shared import problems

CORRELATION_HEADER = "X-Correlation-ID"
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

REQUESTS = Counter("sarabun_http_requests_total", "HTTP requests", ["app", "method", "status"])

ReadinessCheck = Callable[[], Awaitable[bool]]


class Correlation:
    """Pure ASGI middleware: every request carries a correlation id (the caller's or a new one) into the logs,
    the internal calls and the response, and is counted. Unlike `@app.middleware("http")` it adds no task and
    no body buffering per request, and streamed bodies pass straight through."""

    def __init__(self, app, name: str):
        self.app = app
        self.name = name

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cid = _header(scope, b"x-correlation-id") or uuid.uuid4().hex
        token = correlation_id.set(cid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-correlation-id", cid.encode("latin-1"))]
                REQUESTS.labels(self.name, scope["method"], str(message["status"])).inc()
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")[:200] or None
    return None


def create_app(name: str, checks: dict[str, ReadinessCheck], **kwargs) -> FastAPI:
    # FastAPI's own /docs and /redoc load their scripts from a public CDN: blank on a closed network, and they
    # tell a third party who reads the documentation. The gateway serves Swagger UI from its own files instead.
    kwargs.setdefault("docs_url", None)
    kwargs.setdefault("redoc_url", None)
    app = FastAPI(title=name, **kwargs)
    problems.install(app)

    app.add_middleware(Correlation, name=name)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz():
        results = {}
        for check_name, check in checks.items():
            try:
                results[check_name] = bool(await check())
            except Exception:  # noqa: BLE001 - any failure means not ready
                results[check_name] = False
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics():
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying the request's correlation id."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "correlation_id": correlation_id.get(),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# Libraries whose INFO lines say nothing an operator acts on (fontTools writes a dozen per stamped PDF, httpx one
# per internal call): they log at SARABUN_LIBRARY_LOG_LEVEL (WARNING), Sarabun's own loggers and uvicorn's
# start-up lines at SARABUN_LOG_LEVEL.
LIBRARY_LOGGERS = (
    "fontTools",
    "fpdf",
    "PIL",
    "pypdf",
    "pyhanko",
    "pyhanko_certvalidator",
    "aio_pika",
    "aiormq",
    "pamqp",
    "httpx",
    "httpcore",
    "alembic",
    "sqlalchemy",
    "asyncio",
    "minio",
    "urllib3",
    "multipart",
    "python_multipart",
    "uharfbuzz",
)


def setup_logging(level: str = "INFO", library_level: str = "WARNING") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(library_level.upper())
