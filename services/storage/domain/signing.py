"""Electronic signatures on letters (ลงนาม): PAdES signing of a rendered letter, verification of a signed PDF, and
the keys of demo mode. Pure: bytes and keys in, bytes and findings out; where keys are kept is the adapters'.

A signature is PAdES B-B (B-T when a timestamp authority is given): a CMS signature over the whole file
except the signature itself, in the field `signer` the layout created. Its visible appearance says in Thai
who signed, in what position, for whom (ปฏิบัติราชการแทน ...), and when, in the Buddhist era.

Verification distinguishes what a recipient needs to know: `valid` — the signed bytes are intact, the
signature over them is correct, and nothing added to the file since changes what was signed (a later
signature or a receipt stamp in a new field may be added, content may not); `trusted` — the signer's
certificate chains to a configured trust root and was valid at the time checked.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, InnerScaling, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.stamp.text import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from services.storage.domain.layout import SIGNATURE_FIELD
from services.storage.domain.stamp import FONT_FILE
from shared import thai

log = logging.getLogger("sarabun.storage.signing")

INK = (0.05, 0.15, 0.55)  # the blue of a pen, set apart from the letter's black
APPEARANCE_SIZE = 9
DEMO_CA_NAME = "Sarabun demo CA (not for real letters)"
DEMO_CA_YEARS = 10
DEMO_SIGNER_DAYS = 2 * 365


class SigningRefused(Exception):
    """Signing cannot go on: no key for this signer, or a key that cannot be used. `message` is for people,
    Thai first with English in brackets."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SigningKey:
    """A signer's private key, its certificate, and the certificates between it and its root."""

    private_key: ec.EllipticCurvePrivateKey | object
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @property
    def name(self) -> str:
        return certificate_name(self.certificate)

    def usable_at(self, moment: datetime) -> None:
        """Raises SigningRefused when the certificate is not valid at `moment` (it expired since start-up)."""
        valid_from, valid_to = self.certificate.not_valid_before_utc, self.certificate.not_valid_after_utc
        if moment > valid_to:
            raise SigningRefused(
                f"ใบรับรองของกุญแจลงนามหมดอายุแล้วเมื่อ {thai.date_th(valid_to)} "
                f"(the signing certificate expired on {valid_to:%Y-%m-%d})"
            )
        if moment < valid_from:
            raise SigningRefused(
                f"ใบรับรองของกุญแจลงนามยังไม่เริ่มใช้ได้จนถึง {thai.date_th(valid_from)} "
                f"(the signing certificate is not valid before {valid_from:%Y-%m-%d})"
            )


def certificate_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def open_pkcs12(data: bytes, password: str | None) -> SigningKey:
    """The key in a PKCS#12 file; SigningRefused when it does not open or holds no key and certificate."""
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, TypeError):
        raise SigningRefused("เปิดไฟล์กุญแจลงนามไม่ได้ (the PKCS#12 file does not open with the password)") from None
    if key is None or certificate is None:
        raise SigningRefused("ไฟล์กุญแจลงนามไม่มีกุญแจหรือใบรับรอง (the PKCS#12 file holds no key or certificate)")
    return SigningKey(key, certificate, tuple(chain))


@dataclass(frozen=True)
class Appearance:
    """What the visible signature says."""

    name: str
    position: str
    on_behalf_text: str
    signed_at: datetime

    def text(self) -> str:
        local = self.signed_at.astimezone(thai.BANGKOK)
        lines = [
            f"ลงนามโดย {self.name}",
            self.position,
            self.on_behalf_text,
            f"เมื่อ {thai.date_th(self.signed_at)} เวลา {local:%H.%M} น.",
        ]
        # A % in a name would be read as a template parameter by the stamp.
        return "\n".join(line.replace("%", "%%") for line in lines if line)


# The text in the middle of the field, shrunk only when a long name or position would not fit.
_CENTRED = SimpleBoxLayoutRule(
    x_align=AxisAlignment.ALIGN_MID,
    y_align=AxisAlignment.ALIGN_MID,
    margins=Margins.uniform(1),
    inner_content_scaling=InnerScaling.SHRINK_TO_FIT,
)


def sign_pdf(pdf: bytes, key: SigningKey, appearance: Appearance, timestamper: TimeStamper | None = None) -> bytes:
    """`pdf` signed in its field `signer` (PAdES; B-T with a timestamper), as an incremental update: the bytes
    before the signature stay as they were. Like verify_pdf, from a worker thread inside an event loop."""
    signer = signers.SimpleSigner(
        signing_cert=_asn1(key.certificate),
        signing_key=_asn1_key(key.private_key),
        cert_registry=_registry(key.chain),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        name=appearance.name,
        reason="ลงนามหนังสือราชการ",
    )
    style = TextStampStyle(
        stamp_text=appearance.text(),
        text_box_style=TextBoxStyle(
            font=GlyphAccumulatorFactory(str(FONT_FILE), font_size=APPEARANCE_SIZE),
            font_size=APPEARANCE_SIZE,
            leading=APPEARANCE_SIZE + 2,
            text_color=INK,
            box_layout_rule=_CENTRED,
        ),
        border_width=0,
        inner_content_layout=_CENTRED,
    )
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper, stamp_style=style)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    try:
        return pdf_signer.sign_pdf(writer).getvalue()
    except TimestampRequestError as exc:
        # B-T was asked for: a signature without its timestamp would be less than the agency configured.
        raise SigningRefused(
            "หน่วยประทับรับรองเวลาไม่ตอบ โปรดลองใหม่ภายหลัง (the timestamp authority did not answer)", status=503
        ) from exc
    except SigningError as exc:
        raise SigningRefused(f"ลงนามไม่สำเร็จ (signing failed: {exc})") from exc


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _asn1_key(private_key) -> asn1_keys.PrivateKeyInfo:
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return asn1_keys.PrivateKeyInfo.load(der)


def _registry(chain: Iterable[x509.Certificate]) -> SimpleCertificateStore:
    store = SimpleCertificateStore()
    store.register_multiple([_asn1(c) for c in chain])
    return store


# Verification.

MODIFIED, UNTRUSTED, BROKEN, EXPIRED = "modified", "untrusted", "broken", "expired"
_EXPIRY = {
    AdESIndeterminate.EXPIRED,
    AdESIndeterminate.NOT_YET_VALID,
    AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
    AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    AdESFailure.NOT_YET_VALID,
}
# A signing certificate must allow signing (digitalSignature) or commitment (nonRepudiation): agencies' CAs set
# either or both. pyHanko's default asks for nonRepudiation alone.
_KEY_USAGE = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)
SIGNATURE_MARKER = b"/ByteRange"  # in every signature dictionary, which is never compressed
MAX_FIELD = 200


@dataclass(frozen=True)
class SignatureCheck:
    """What verification found about one signature of a PDF. `problem` is None when it is valid and trusted."""

    field: str
    signer: str
    valid: bool
    trusted: bool
    signed_at: datetime | None
    problem: str | None


def verify_pdf(pdf: bytes, trust_roots: list[x509.Certificate], at: datetime | None = None) -> list[SignatureCheck]:
    """Every signature of `pdf`, checked against `trust_roots` at `at` (now by default). A file that cannot
    be read as a signed PDF gives one finding, `broken`, with no field. pyHanko runs its own event loop: call
    this from a worker thread where one is running already."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except RuntimeError:
        raise  # called inside a running event loop: a mistake of the caller's, not a finding about the file
    except Exception as exc:  # noqa: BLE001 - a damaged file shows through many exception types; all mean broken
        # A letter must still reach its recipients whatever its PDF holds: this is a finding, never a failure.
        log.info("signed PDF cannot be read: %s", exc)
        return [SignatureCheck("", "", False, False, None, BROKEN)]
    context_roots = [_asn1(root) for root in trust_roots]
    checks, seen = [], set()
    for signature in signatures:
        name = _unique((signature.field_name or "")[:MAX_FIELD], seen)
        checks.append(_check(signature, name, context_roots, at))
    return checks


def _unique(name: str, seen: set[str]) -> str:
    candidate, n = name, 1
    while candidate in seen:
        n += 1
        candidate = f"{name}#{n}"
    seen.add(candidate)
    return candidate


def _check(signature, name: str, roots: list, at: datetime | None) -> SignatureCheck:
    signer = ""
    try:
        signer = _signer_name(signature.signer_cert)
        context = ValidationContext(
            trust_roots=roots,
            allow_fetching=False,  # no calls out from the service; revocation is checked where data is at hand
            revocation_mode="soft-fail",
            moment=at,
            best_signature_time=at,
        )
        status = validate_pdf_signature(signature, signer_validation_context=context, key_usage_settings=_KEY_USAGE)
    except RuntimeError:
        raise  # called inside a running event loop: a mistake of the caller's, not a finding about the file
    except Exception as exc:  # noqa: BLE001 - pyHanko reports a malformed signature through many exception types
        log.info("signature %r cannot be validated: %s", name, exc)
        return SignatureCheck(name, signer, False, False, None, BROKEN)
    valid = bool(status.intact and status.valid and status.docmdp_ok is not False)
    trusted = bool(valid and status.trusted)
    timestamp = status.timestamp_validity
    signed_at = timestamp.timestamp if timestamp is not None and timestamp.valid else status.signer_reported_dt
    return SignatureCheck(name, signer, valid, trusted, signed_at, _problem(status, valid, trusted))


def _problem(status, valid: bool, trusted: bool) -> str | None:
    if not status.intact or (status.valid and status.docmdp_ok is False):
        return MODIFIED  # the signed bytes changed, or what was added after signing changes them
    if not valid:
        return BROKEN  # intact bytes, but the signature over them is wrong
    timestamp = status.timestamp_validity
    if timestamp is not None and not (timestamp.intact and timestamp.valid):
        return BROKEN
    if not trusted:
        return EXPIRED if status.trust_problem_indic in _EXPIRY else UNTRUSTED
    return None


def _signer_name(certificate) -> str:
    try:
        return certificate_name(x509.load_der_x509_certificate(certificate.dump()))
    except ValueError:
        return ""


# The keys of demo mode: a CA of its own, and a key per signer issued on first use. Never for real letters.

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def safe_username(username: str) -> bool:
    """Whether a username can name a key file: no path separators, no leading dot."""
    return bool(_USERNAME.match(username))


def issue_demo_ca(now: datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_CA_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sarabun"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * DEMO_CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def issue_demo_key(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_certificate: x509.Certificate,
    username: str,
    display_name: str,
    now: datetime | None = None,
    days: int = DEMO_SIGNER_DAYS,
) -> SigningKey:
    """A key and certificate for one signer, issued by the demo CA. The certificate names the person (CN) and
    their username (UID)."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(display_name or username, 64)),
            x509.NameAttribute(NameOID.USER_ID, username),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sarabun demo"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + timedelta(days=days), ca_certificate.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return SigningKey(key, certificate, (ca_certificate,))


def _fit(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, as X.509 counts a name's length (a Thai letter takes three)."""
    return text.encode()[:limit].decode(errors="ignore")


def _key_usage(signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,  # non-repudiation: what a validator expects of a document signature
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )
