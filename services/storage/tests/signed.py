"""Letters, keys and signed PDFs for the signing tests, and poppler's tools as an independent second opinion.
Keys take milliseconds to make but are made once per test session all the same."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from PIL import Image

from conftest import missing
from services.storage.domain import signing
from services.storage.domain.layout import Letter, Reference, render_letter

PDFSIG = Path("/usr/bin/pdfsig")
PDFTOPPM = Path("/usr/bin/pdftoppm")
SIGNED_AT = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)  # 10.30 in Bangkok

BODY = (
    "ด้วยกรมบัญชีกลางกำหนดจัดประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์ ครั้งที่ 3/2569 "
    "ในวันพฤหัสบดีที่ 26 พฤศจิกายน 2569 เวลา 09.30 น. ณ ห้องประชุม 1 อาคารกรมบัญชีกลาง\n"
    "ในการนี้ จึงขอเชิญท่านหรือผู้แทนเข้าร่วมประชุมตามวัน เวลา และสถานที่ดังกล่าว\n"
    "จึงเรียนมาเพื่อโปรดพิจารณา"
)


def letter(letter_type: str = "external", **changes) -> Letter:
    values = {
        "letter_type": letter_type,
        "org_name": "กรมบัญชีกลาง\nถนนพระรามที่ 6 กรุงเทพฯ 10400",
        "subject": "ขอเชิญประชุมคณะทำงานพัฒนาระบบสารบรรณอิเล็กทรอนิกส์",
        "body": BODY,
        "to_text": "อธิบดีกรมสรรพากร",
        "references": (Reference("กค 0402/99", date(2026, 11, 1), "การประชุมครั้งที่ 2"),),
        "enclosures": ("กำหนดการประชุม", "แบบตอบรับการเข้าร่วมประชุม"),
        "signer_name": "นายสมศักดิ์ รักงาน",
        "signer_position": "รองอธิบดีกรมบัญชีกลาง",
        "on_behalf_text": "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง",
        "owning_unit": "กองงบประมาณ",
        "phone": "0 2127 7000 ต่อ 4321",
        "email": "budget@cgd.go.th",
        "doc_no": "กค 0402/123",
        "doc_date": date(2026, 11, 24),
        "created_at": SIGNED_AT,
    }
    return Letter(**{**values, **changes})


def appearance(at: datetime = SIGNED_AT) -> signing.Appearance:
    return signing.Appearance("นายสมศักดิ์ รักงาน", "รองอธิบดีกรมบัญชีกลาง", "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง", at)


@dataclass(frozen=True)
class DemoCA:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    signer: signing.SigningKey  # cgd.deputy's


@functools.cache
def demo_ca() -> DemoCA:
    key, certificate = signing.issue_demo_ca()
    return DemoCA(key, certificate, signing.issue_demo_key(key, certificate, "cgd.deputy", "นายสมศักดิ์ รักงาน"))


@functools.cache
def other_ca() -> DemoCA:
    """A CA nobody configured: what it issues is not trusted."""
    key, certificate = signing.issue_demo_ca()
    return DemoCA(key, certificate, signing.issue_demo_key(key, certificate, "stranger", "นายแปลก หน้า"))


@functools.cache
def signed_letter() -> bytes:
    return signing.sign_pdf(render_letter(letter()), demo_ca().signer, appearance())


def certificate(ca: DemoCA, name: str, *, valid_from: datetime, valid_to: datetime) -> tuple:
    """A key and a certificate for `name` valid over exactly the given period, issued by `ca`."""
    key = ec.generate_private_key(ec.SECP256R1())
    issued = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_SIGNING_ONLY, critical=True)  # digitalSignature without nonRepudiation, as many CAs issue
        .sign(ca.key, hashes.SHA256())
    )
    return key, issued


_SIGNING_ONLY = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def p12(key, issued: x509.Certificate, password: str | None, chain: tuple = ()) -> bytes:
    protection = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return pkcs12.serialize_key_and_certificates(b"signer", key, issued, list(chain) or None, protection)


def valid_p12(ca: DemoCA, name: str, password: str | None) -> bytes:
    now = datetime.now(UTC)
    key, issued = certificate(ca, name, valid_from=now - timedelta(days=1), valid_to=now + timedelta(days=365))
    return p12(key, issued, password, (ca.certificate,))


def flip_signed_byte(pdf: bytes) -> bytes:
    """The file with one byte changed inside the range the first signature covers (a digit of the body text's
    content stream would do; the first page's stream is simplest to find)."""
    at = pdf.index(b"stream", pdf.index(b"/Length")) + 40
    changed = bytearray(pdf)
    changed[at] ^= 0x01
    return bytes(changed)


def pdfsig(pdf: bytes) -> str:
    """poppler's own verification (not pyHanko's): its report, without certificate checks (it trusts only its
    NSS database, which knows no demo CA)."""
    if not PDFSIG.exists():
        missing("poppler's pdfsig (/usr/bin/pdfsig)")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        result = subprocess.run(
            [str(PDFSIG), "-nocert", "-no-ocsp", file.name], capture_output=True, text=True, timeout=60
        )
    return result.stdout + result.stderr


def pdfsig_verdicts(pdf: bytes) -> dict[str, str]:
    """Each signed field pdfsig lists, and what it said of the signature."""
    verdicts, field = {}, None
    for line in pdfsig(pdf).splitlines():
        line = line.strip()
        if line.startswith("- Signature Field Name:"):
            field = line.split(":", 1)[1].strip()
        elif line.startswith("- Signature Validation:") and field is not None:
            verdicts[field] = line.split(":", 1)[1].strip()
    return verdicts


def first_page_image(pdf: bytes, dpi: int = 40) -> Image.Image:
    """Page 1 as poppler draws it, annotations and /Rotate included."""
    if not PDFTOPPM.exists() or shutil.which(str(PDFTOPPM)) is None:
        missing("poppler's pdftoppm (/usr/bin/pdftoppm)")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [str(PDFTOPPM), "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(source), str(Path(folder) / "page")],
            check=True,
            timeout=60,
        )
        page = next(Path(folder).glob("page*.png"))
        return Image.open(io.BytesIO(page.read_bytes())).convert("RGB")


def bluish_pixels(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    """Pixels in the part of the image given as fractions (left, top, right, bottom) where blue clearly leads:
    the receipt stamp's ink."""
    width, height = image.size
    region = image.crop((int(box[0] * width), int(box[1] * height), int(box[2] * width), int(box[3] * height)))
    return sum(1 for r, g, b in region.getdata() if b > 100 and b > r + 40 and b > g + 40)
