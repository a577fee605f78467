"""Configuration by environment (twelve-factor). Nothing configured means embedded demo mode."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_PASSWORD = "sarabun-demo"
DEMO_SECRET = "sarabun-demo-secret-not-for-production-use"

SERVICE_PORTS = {"gateway": 8000, "intake": 8101, "routing": 8102, "storage": 8103, "audit": 8104}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SARABUN_", extra="ignore")

    # Demo mode seeds the directory and the demo users and allows the demo secrets.
    demo: bool = False
    demo_password: str = DEMO_PASSWORD
    data_dir: Path = Path("var")

    database_url: str | None = None  # None: one SQLite file per service under data_dir
    bus_url: str = "memory://"
    storage_url: str | None = None  # None: a folder under data_dir/objects

    # Signs user tokens (gateway) and the internal principal tokens services accept.
    jwt_secret: str = DEMO_SECRET
    service_secret: str = DEMO_SECRET
    token_minutes: int = 30
    # Whether people may sign in with a password kept here. Off: only through the agency's identity provider
    # or a one-time sign-in link an administrator issues.
    local_passwords: bool = True
    # The address people reach this deployment at (e.g. https://saraban.example.go.th), for links sent to
    # them; unset, the address of the request that made the link.
    public_url: str | None = None
    # Signs the audit log's checkpoints: base64 of a 32-byte Ed25519 seed. Only the audit service reads it,
    # and only from here; in demo mode it is generated into a file under data_dir on first start.
    audit_signing_key: str | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    intake_url: str = f"http://127.0.0.1:{SERVICE_PORTS['intake']}"
    routing_url: str = f"http://127.0.0.1:{SERVICE_PORTS['routing']}"
    storage_url_internal: str = f"http://127.0.0.1:{SERVICE_PORTS['storage']}"
    audit_url: str = f"http://127.0.0.1:{SERVICE_PORTS['audit']}"

    max_upload_bytes: int = 100 * 1024 * 1024
    outbox_poll_seconds: float = 1.0
    # An outbox row unsent or a message dead-lettered for longer than this is flagged by the reconciler
    # (sarabun_reconciler_stuck_total) and the row republished.
    stuck_after_seconds: float = 60.0
    consumer_max_attempts: int = 5
    consumer_retry_seconds: float = 2.0  # embedded bus; RabbitMQ uses topology.RETRY_DELAY_MS
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _no_demo_secrets_in_production(self) -> Settings:
        if self.demo:
            return self
        weak = [
            name
            for name, value in (
                ("SARABUN_JWT_SECRET", self.jwt_secret),
                ("SARABUN_SERVICE_SECRET", self.service_secret),
            )
            if value == DEMO_SECRET or len(value) < 32
        ]
        if weak:
            raise ValueError(
                f"{', '.join(weak)}: set a secret of at least 32 characters (the demo value is allowed only "
                "with SARABUN_DEMO=1)"
            )
        return self

    def audit_signing_seed(self) -> bytes | None:
        """The checkpoint key's seed, or None in demo mode without one (the audit service makes its own).
        Checked when the audit service is built rather than in the validator, so the other services start
        without a key they never use."""
        if self.audit_signing_key is None:
            if self.demo:
                return None
            raise ValueError(
                "SARABUN_AUDIT_SIGNING_KEY: set the base64 of a 32-byte Ed25519 seed (a generated key is used "
                "only with SARABUN_DEMO=1)"
            )
        try:
            seed = base64.b64decode(self.audit_signing_key, validate=True)
        except binascii.Error:
            seed = b""
        if len(seed) != 32:
            raise ValueError("SARABUN_AUDIT_SIGNING_KEY: not the base64 of a 32-byte Ed25519 seed")
        return seed

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').as_posix()}"

    def service_urls(self) -> dict[str, str]:
        return {
            "intake": self.intake_url,
            "routing": self.routing_url,
            "storage": self.storage_url_internal,
            "audit": self.audit_url,
        }
