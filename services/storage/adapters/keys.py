"""Where signing keys come from: the configured folder of PKCS#12 files, or in demo mode a demo CA kept under the
data folder that issues each signer a key on first use. Files are read at each use, so a key replaced on disk is
used from the next signature on without a restart."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.storage.domain.signing import (
    SigningKey,
    SigningRefused,
    issue_demo_ca,
    issue_demo_key,
    open_pkcs12,
    safe_username,
)
from shared.settings import SIGNING_KEY_SUFFIX, Settings

AGENCY_KEY = f"agency{SIGNING_KEY_SUFFIX}"
DEMO_CA_FILE = "demo-ca.pem"
DEMO_SIGNERS = "signers"
RENEW_BEFORE = timedelta(days=7)  # a demo certificate this close to its end is replaced rather than used


class SigningKeys:
    def __init__(
        self,
        keys_dir: Path | None = None,
        password: str | None = None,
        trust_roots_file: Path | None = None,
        demo_dir: Path | None = None,
    ):
        self.keys_dir, self.password, self.trust_roots_file = keys_dir, password, trust_roots_file
        self.demo_dir = demo_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> SigningKeys:
        demo = settings.demo and settings.signing_keys_dir is None
        return cls(
            keys_dir=settings.signing_keys_dir,
            password=settings.signing_keys_password,
            trust_roots_file=settings.signing_trust_roots,
            demo_dir=settings.data_dir / "signing" if demo else None,
        )

    def key_for(self, username: str, display_name: str) -> SigningKey:
        """The key `username` signs with: their own file, else the agency's; in demo mode, one issued to them.
        Raises SigningRefused when there is none."""
        if self.keys_dir is not None:
            return self._configured(username)
        if self.demo_dir is not None:
            return self._demo_key(username, display_name)
        raise SigningRefused(
            "ยังไม่ได้ตั้งค่ากุญแจลงนามของหน่วยงาน โปรดติดต่อผู้ดูแลระบบ "
            "(signing keys are not configured: set SARABUN_SIGNING_KEYS_DIR)"
        )

    def trust_roots(self) -> list[x509.Certificate]:
        """The certificates a signature must chain to be trusted: the configured ones, and the demo CA in demo
        mode."""
        roots = []
        if self.trust_roots_file is not None:
            roots += x509.load_pem_x509_certificates(self.trust_roots_file.read_bytes())
        if self.demo_dir is not None:
            roots.append(self._demo_ca()[1])
        return roots

    def _configured(self, username: str) -> SigningKey:
        assert self.keys_dir is not None
        own = self.keys_dir / f"{username}{SIGNING_KEY_SUFFIX}" if safe_username(username) else None
        for path in (own, self.keys_dir / AGENCY_KEY):
            if path is not None and path.is_file():
                return open_pkcs12(path.read_bytes(), self.password)
        raise SigningRefused(
            f"ไม่มีกุญแจลงนามสำหรับ {username} โปรดติดต่อผู้ดูแลระบบ "
            f"(no {username}{SIGNING_KEY_SUFFIX} or {AGENCY_KEY} in the signing keys folder)"
        )

    def _demo_ca(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        assert self.demo_dir is not None
        path = self.demo_dir / DEMO_CA_FILE
        if not path.exists():
            key, certificate = issue_demo_ca()
            _write_once(path, _pem(key, certificate))
        return _read_pem(path)

    def _demo_key(self, username: str, display_name: str) -> SigningKey:
        assert self.demo_dir is not None
        if not safe_username(username):
            raise SigningRefused(f"ออกกุญแจทดลองให้ผู้ใช้ชื่อนี้ไม่ได้ (no demo key for the username {username!r})")
        ca_key, ca_certificate = self._demo_ca()
        path = self.demo_dir / DEMO_SIGNERS / f"{username}.pem"
        if path.exists():
            key, certificate = _read_pem(path)
            if certificate.not_valid_after_utc - RENEW_BEFORE > datetime.now(UTC):
                return SigningKey(key, certificate, (ca_certificate,))
            path.unlink(missing_ok=True)
        issued = issue_demo_key(ca_key, ca_certificate, username, display_name)
        _write_once(path, _pem(issued.private_key, issued.certificate))
        key, certificate = _read_pem(path)  # another process may have written it first: use that one
        return SigningKey(key, certificate, (ca_certificate,))


def _pem(key, certificate: x509.Certificate) -> bytes:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private + certificate.public_bytes(serialization.Encoding.PEM)


def _read_pem(path: Path):
    data = path.read_bytes()
    return serialization.load_pem_private_key(data, password=None), x509.load_pem_x509_certificate(data)


def _write_once(path: Path, data: bytes) -> None:
    """Writes `path` unless it exists, atomically: two processes issuing at once keep the first file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as temporary:
        temporary.write(data)
    try:
        os.chmod(temporary.name, 0o600)  # a private key, even a demo one
        os.link(temporary.name, path)  # fails if the file is there: never replaces another's
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary.name)
