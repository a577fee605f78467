"""Configuration by environment (twelve-factor). Nothing configured means embedded demo mode."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_PASSWORD = "sarabun-demo"
DEMO_SECRET = "sarabun-demo-secret-not-for-production-use"

SERVICE_PORTS = {"gateway": 8000, "intake": 8101, "routing": 8102, "storage": 8103, "audit": 8104, "notify": 8105}


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
    notify_url: str = f"http://127.0.0.1:{SERVICE_PORTS['notify']}"

    max_upload_bytes: int = 100 * 1024 * 1024
    outbox_poll_seconds: float = 1.0
    # An outbox row unsent or a message dead-lettered for longer than this is flagged by the reconciler
    # (sarabun_reconciler_stuck_total) and the row republished.
    stuck_after_seconds: float = 60.0
    consumer_max_attempts: int = 5
    consumer_retry_seconds: float = 2.0  # embedded bus; RabbitMQ uses topology.RETRY_DELAY_MS
    # Consumers take up to this many messages at once, waiting at most this long for more after the first.
    consumer_batch_messages: int = Field(default=64, ge=1, le=1000)
    consumer_batch_wait_ms: float = Field(default=4.0, ge=0, le=1000)
    log_level: str = "INFO"
    # Third-party libraries (fontTools, aio-pika, httpx, alembic, ...): their INFO lines are noise in a service log.
    library_log_level: str = "WARNING"

    # The address people reach this deployment at (e.g. https://sarabun.example.go.th), used for the address
    # the identity provider sends them back to; unset: the address of the request itself.
    public_url: str | None = None

    # Sign-in through the agency's OpenID Connect identity provider: on when the issuer and client id are set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_username_claim: str = "preferred_username"  # or `email`, `sub`, ...
    # A person the provider vouches for who has no account here: refused, or given a disabled one to approve.
    oidc_unknown_users: Literal["refuse", "create_disabled"] = "refuse"
    oidc_scopes: str = "openid profile email"

    # Signing letters (ลงนาม, PAdES). A folder of PKCS#12 files: `<username>.p12` for a signer with a key of their
    # own, `agency.p12` for everyone else; one password opens them all. Trust roots: a PEM file of the
    # certificates a signature must chain to for recipients to see it trusted. A timestamp authority (RFC 3161)
    # makes signatures PAdES B-T instead of B-B. In demo mode without a folder, a demo CA under data_dir issues
    # each signer a key on first use; outside demo mode without one, signing is refused.
    signing_keys_dir: Path | None = None
    signing_keys_password: str | None = None
    signing_trust_roots: Path | None = None
    signing_tsa_url: str | None = None
    # A signed letter leaves at once, without waiting for the registry to dispatch it (ส่งทันทีเมื่อลงนาม). When
    # its recipients no longer all exist, it waits for the registry as usual.
    dispatch_on_signing: bool = False
    # The garuda emblem (ตราครุฑ) printed on rendered letters (PNG, JPEG or SVG); unset, its place is left empty.
    garuda_image: Path | None = None

    # Notifications by e-mail (the notify service). Without a host, e-mail is off for the deployment: people get
    # their notifications in the page only and no mail is queued, so setting a host later sends nothing stale.
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)  # None: 25, 587 with starttls, 465 with tls
    smtp_from: str | None = None  # e.g. "สารบรรณ กรมบัญชีกลาง <saraban@cgd.go.th>"; required with a host
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    # A mail the server did not take is tried again after this long, doubling each time up to the maximum;
    # it stays queued until the server takes it (a permanent refusal, 5xx, ends it).
    smtp_retry_seconds: float = Field(default=30.0, gt=0)
    smtp_retry_max_seconds: float = Field(default=1800.0, gt=0)
    # When the daily digest goes out (Asia/Bangkok, HH:MM), and how often deadlines and the digest are checked.
    notify_digest_time: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    notify_scan_seconds: float = Field(default=60.0, gt=0)

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

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if bool(self.oidc_issuer) != bool(self.oidc_client_id):
            raise ValueError(
                "SARABUN_OIDC_ISSUER and SARABUN_OIDC_CLIENT_ID: set both to sign in through OpenID Connect"
            )
        if self.oidc_issuer and not self.oidc_client_secret and not self.demo:
            raise ValueError(
                "SARABUN_OIDC_CLIENT_SECRET: set the client secret the identity provider issued (it may be left out "
                "only with SARABUN_DEMO=1)"
            )
        if self.oidc_issuer and "openid" not in self.oidc_scopes.split():
            raise ValueError("SARABUN_OIDC_SCOPES: must include `openid`")
        return self

    @model_validator(mode="after")
    def _signing_usable(self) -> Settings:
        """A key that cannot be opened or a certificate out of its validity would only fail at the first
        signature, in front of an executive; refuse to start instead."""
        if self.signing_keys_dir is not None:
            _check_signing_keys(self.signing_keys_dir, self.signing_keys_password)
        if self.signing_trust_roots is not None:
            _check_trust_roots(self.signing_trust_roots)
        if self.signing_tsa_url is not None and not self.signing_tsa_url.startswith(("http://", "https://")):
            raise ValueError("SARABUN_SIGNING_TSA_URL: give the http:// or https:// address of the timestamp authority")
        if self.garuda_image is not None:
            if not self.garuda_image.is_file():
                raise ValueError(f"SARABUN_GARUDA_IMAGE: no file at {self.garuda_image}")
            if self.garuda_image.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
                raise ValueError("SARABUN_GARUDA_IMAGE: give a PNG, JPEG or SVG image")
        return self

    @model_validator(mode="after")
    def _smtp_complete(self) -> Settings:
        if self.smtp_host and not self.smtp_from:
            raise ValueError("SARABUN_SMTP_FROM: set the sender address of notification mail (with SARABUN_SMTP_HOST)")
        if bool(self.smtp_username) != bool(self.smtp_password):
            raise ValueError("SARABUN_SMTP_USERNAME and SARABUN_SMTP_PASSWORD: set both to sign in to the mail server")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

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
            "notify": self.notify_url,
        }


SIGNING_KEY_SUFFIX = ".p12"


def _check_signing_keys(folder: Path, password: str | None) -> None:
    """Every PKCS#12 file in the folder opens with the password and holds a key with a certificate valid now."""
    if not folder.is_dir():
        raise ValueError(f"SARABUN_SIGNING_KEYS_DIR: {folder} is not a folder")
    files = sorted(folder.glob(f"*{SIGNING_KEY_SUFFIX}"))
    if not files:
        raise ValueError(
            f"SARABUN_SIGNING_KEYS_DIR: no PKCS#12 file in {folder} (expected <username>.p12 or agency.p12)"
        )
    secret = password.encode() if password else None
    now = datetime.now(UTC)
    for file in files:
        try:
            key, certificate, _ = pkcs12.load_key_and_certificates(file.read_bytes(), secret)
        except (ValueError, TypeError):
            raise ValueError(
                f"SARABUN_SIGNING_KEYS_PASSWORD: cannot open {file.name} with it (wrong password, or not a "
                "PKCS#12 file)"
            ) from None
        if key is None or certificate is None:
            raise ValueError(f"SARABUN_SIGNING_KEYS_DIR: {file.name} holds no private key with its certificate")
        valid_from, valid_to = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        if now > valid_to:
            raise ValueError(
                f"SARABUN_SIGNING_KEYS_DIR: the certificate in {file.name} expired on {valid_to:%Y-%m-%d}; "
                "replace the file"
            )
        if now < valid_from:
            raise ValueError(
                f"SARABUN_SIGNING_KEYS_DIR: the certificate in {file.name} is not valid before {valid_from:%Y-%m-%d}"
            )


def _check_trust_roots(file: Path) -> None:
    try:
        roots = x509.load_pem_x509_certificates(file.read_bytes())
    except (OSError, ValueError):
        roots = []
    if not roots:
        raise ValueError(f"SARABUN_SIGNING_TRUST_ROOTS: {file} is not a readable PEM file of certificates")
