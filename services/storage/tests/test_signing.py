"""PAdES signatures on letters: a signed letter verifies with pyHanko and, independently, with poppler's pdfsig;
one byte changed makes both say it is not; a signer outside the trust roots, or out of their certificate's
validity, is told apart; a timestamp makes it B-T; and the receipt stamp of a signed PDF leaves it valid."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pyhanko.sign.timestamps import DummyTimeStamper
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream

from services.storage.domain import signing
from services.storage.domain.layout import SIGNATURE_FIELD, render_letter
from services.storage.domain.signing import SigningKey, sign_pdf, verify_pdf
from services.storage.domain.stamp import RECEIPT_FIELD, ReceiptStamp, stamp_pdf
from services.storage.tests import signed
from services.storage.tests.signed import (
    appearance,
    bluish_pixels,
    demo_ca,
    first_page_image,
    flip_signed_byte,
    letter,
    other_ca,
    pdfsig_verdicts,
    signed_letter,
)

VALID = "Signature is Valid."
RECEIPT = ReceiptStamp("สำนักงานปลัดกระทรวงการคลัง", 42, datetime(2026, 11, 24, 4, 0, tzinfo=UTC))


def test_a_signed_letter_verifies_with_pyhanko_and_with_pdfsig():
    pdf = signed_letter()

    [check] = verify_pdf(pdf, [demo_ca().certificate])
    assert check == signing.SignatureCheck(
        field=SIGNATURE_FIELD,
        signer="นายสมศักดิ์ รักงาน",
        valid=True,
        trusted=True,
        signed_at=check.signed_at,
        problem=None,
    )
    assert abs(check.signed_at - datetime.now(UTC)) < timedelta(hours=1)
    assert pdfsig_verdicts(pdf) == {SIGNATURE_FIELD: VALID}
    # The signature filled the field the layout made: still one field, now with its value.
    assert set(PdfReader(io.BytesIO(pdf)).get_fields()) == {SIGNATURE_FIELD}


def test_the_signature_is_pades_and_shows_in_thai_on_the_page():
    pdf = signed_letter()
    [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES, not adbe.pkcs7

    reader = PdfReader(io.BytesIO(pdf))
    widget = next(a.get_object() for a in reader.pages[0]["/Annots"] if a.get_object()["/T"] == SIGNATURE_FIELD)
    drawn = widget["/AP"]["/N"].get_object()
    fonts = drawn["/Resources"]["/Font"]
    assert any("Sarabun" in str(font.get_object()["/BaseFont"]) for font in fonts.values())
    # Each line is drawn shaped, in a span that says what it reads (ActualText).
    lines = [
        operands[1]["/ActualText"]
        for operands, operator in ContentStream(drawn, reader).operations
        if operator == b"BDC" and "/ActualText" in operands[1]
    ]
    assert lines == [
        "ลงนามโดย นายสมศักดิ์ รักงาน",
        "รองอธิบดีกรมบัญชีกลาง",
        "ปฏิบัติราชการแทน อธิบดีกรมบัญชีกลาง",
        "เมื่อ 24 พฤศจิกายน 2569 เวลา 10.30 น.",
    ]


def test_one_changed_byte_in_the_signed_range_makes_both_report_it_invalid():
    tampered = flip_signed_byte(signed_letter())

    [check] = verify_pdf(tampered, [demo_ca().certificate])
    assert (check.valid, check.trusted, check.problem) == (False, False, "modified")
    verdict = pdfsig_verdicts(tampered)[SIGNATURE_FIELD]
    assert verdict != VALID and ("Digest Mismatch" in verdict or "Invalid" in verdict)


def test_a_signer_outside_the_trust_roots_is_valid_but_untrusted():
    stranger = sign_pdf(render_letter(letter()), other_ca().signer, appearance())
    [check] = verify_pdf(stranger, [demo_ca().certificate])
    assert (check.valid, check.trusted, check.problem) == (True, False, "untrusted")
    [nobody] = verify_pdf(signed_letter(), [])
    assert (nobody.valid, nobody.trusted, nobody.problem) == (True, False, "untrusted")


def test_a_certificate_that_has_expired_is_told_apart():
    long_ago = datetime.now(UTC) - timedelta(days=800)
    key, certificate = signed.certificate(
        demo_ca(), "นายเก่า ลาออก", valid_from=long_ago, valid_to=long_ago + timedelta(days=30)
    )
    expired_key = SigningKey(key, certificate, (demo_ca().certificate,))
    # Checked when it was still valid, it is fine; checked now (B-B: no proof of the time), it has expired.
    pdf = sign_pdf(render_letter(letter()), expired_key, appearance(long_ago + timedelta(days=1)))
    [now] = verify_pdf(pdf, [demo_ca().certificate])
    assert (now.valid, now.trusted, now.problem) == (True, False, "expired")
    [then] = verify_pdf(pdf, [demo_ca().certificate], at=long_ago + timedelta(days=2))
    assert (then.trusted, then.problem) == (True, None)


def test_signing_refuses_a_certificate_out_of_its_validity():
    later = datetime.now(UTC) + timedelta(days=30)
    key, certificate = signed.certificate(demo_ca(), "นายใหม่", valid_from=later, valid_to=later + timedelta(days=1))
    not_yet = SigningKey(key, certificate, ())
    try:
        not_yet.usable_at(datetime.now(UTC))
    except signing.SigningRefused as refused:
        assert refused.status == 422 and "not valid before" in refused.message
    else:
        raise AssertionError("a certificate not valid yet must be refused")


def test_with_a_timestamp_authority_the_signature_is_b_t():
    ca = demo_ca()
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test authority is RSA
    now = datetime.now(UTC)
    tsa_certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Sarabun test TSA")]))
        .issuer_name(ca.certificate.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    stamped_at = datetime(2026, 11, 24, 3, 31, tzinfo=UTC)
    timestamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        fixed_dt=stamped_at,
    )
    pdf = sign_pdf(render_letter(letter()), ca.signer, appearance(), timestamper=timestamper)

    [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    unsigned = embedded.signer_info["unsigned_attrs"]
    assert any(attribute["type"].native == "signature_time_stamp_token" for attribute in unsigned)
    [check] = verify_pdf(pdf, [ca.certificate])
    assert (check.valid, check.trusted, check.problem) == (True, True, None)
    assert check.signed_at == stamped_at  # the authority's time, not the signer's own claim
    assert pdfsig_verdicts(pdf) == {SIGNATURE_FIELD: VALID}


def test_the_stamped_copy_of_a_signed_pdf_keeps_its_signature_valid():
    original = signed_letter()
    stamped = stamp_pdf(original, RECEIPT)

    assert stamped.startswith(original)  # an incremental update: the signed bytes untouched
    [check] = verify_pdf(stamped, [demo_ca().certificate])
    assert (check.field, check.valid, check.trusted, check.problem) == (SIGNATURE_FIELD, True, True, None)
    assert pdfsig_verdicts(stamped) == {SIGNATURE_FIELD: VALID}
    # The stamp is a read-only field of its own, and shows at the top right of page 1.
    fields = PdfReader(io.BytesIO(stamped)).get_fields()
    assert set(fields) == {SIGNATURE_FIELD, RECEIPT_FIELD} and fields[RECEIPT_FIELD]["/Ff"] == 1
    image = first_page_image(stamped)
    assert bluish_pixels(image, (0.6, 0.0, 1.0, 0.15)) > 50
    assert bluish_pixels(first_page_image(original), (0.6, 0.0, 1.0, 0.15)) == 0


def test_a_second_stamp_and_a_turned_page_keep_the_signature_valid_and_the_stamp_top_right():
    # A letter scanned sideways: page 1 turned a quarter clockwise for display, then signed.
    reader = PdfReader(io.BytesIO(render_letter(letter(), garuda=None)))
    writer = PdfWriter(clone_from=reader)
    writer.pages[0].rotate(90)
    writer.remove_annotations(None)
    writer._root_object.pop("/AcroForm", None)
    turned = io.BytesIO()
    writer.write(turned)
    with_field = IncrementalPdfFileWriter(io.BytesIO(turned.getvalue()))
    append_signature_field(with_field, SigFieldSpec(SIGNATURE_FIELD, on_page=0, box=(100, 100, 250, 160)))
    unsigned = io.BytesIO()
    with_field.write(unsigned)
    pdf = sign_pdf(unsigned.getvalue(), demo_ca().signer, appearance())

    twice = stamp_pdf(stamp_pdf(pdf, RECEIPT), ReceiptStamp("กรมสรรพากร", 43, RECEIPT.received_at))

    [check] = verify_pdf(twice, [demo_ca().certificate])
    assert (check.valid, check.problem) == (True, None)
    assert pdfsig_verdicts(twice) == {SIGNATURE_FIELD: VALID}
    assert set(PdfReader(io.BytesIO(twice)).get_fields()) == {SIGNATURE_FIELD, RECEIPT_FIELD, f"{RECEIPT_FIELD}-2"}
    image = first_page_image(twice)
    assert image.width > image.height  # shown turned
    assert bluish_pixels(image, (0.6, 0.0, 1.0, 0.2)) > 50  # the stamp where a reader looks: top right
    assert bluish_pixels(image, (0.0, 0.5, 0.4, 1.0)) == 0


def test_a_file_that_is_not_a_readable_signed_pdf_is_broken():
    [check] = verify_pdf(b"%PDF-1.7\n/ByteRange [0 1 2 3]\n%%EOF", [demo_ca().certificate])
    assert (check.field, check.valid, check.problem) == ("", False, "broken")


def test_a_signature_whose_cryptography_fails_is_broken():
    # The signature value itself altered (inside /Contents, which the signed range leaves out): the signed bytes
    # are intact, the signature over them is wrong.
    pdf = signed_letter()
    [embedded] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    value = embedded.signer_info["signature"].native.hex().encode()
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    contents = pdf[start : pdf.index(b">", start)].lower()
    at = start + contents.index(value) + 8
    changed = bytearray(pdf)
    changed[at] = ord("0") if changed[at] != ord("0") else ord("1")

    [check] = verify_pdf(bytes(changed), [demo_ca().certificate])
    assert (check.valid, check.problem) == (False, "broken")
    assert pdfsig_verdicts(bytes(changed))[SIGNATURE_FIELD] != VALID
