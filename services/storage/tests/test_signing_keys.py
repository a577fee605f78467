"""Where signing keys come from: settings refuse to start with a key that cannot be used (wrong password, a
certificate expired or not yet valid), a signer's own PKCS#12 is preferred to the agency's, and demo mode
keeps a CA of its own that issues each signer a key on first use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.launcher import main
from services.storage.adapters.keys import AGENCY_KEY, SigningKeys
from services.storage.domain.signing import DEMO_CA_NAME, SigningRefused, certificate_name
from services.storage.tests import signed
from services.storage.tests.signed import demo_ca, other_ca, valid_p12
from shared.settings import Settings

PASSWORD = "รหัสผ่าน-กุญแจ-2569"
PRODUCTION = {"jwt_secret": "j" * 40, "service_secret": "s" * 40}


def _keys_dir(tmp_path, files: dict[str, bytes]):
    folder = tmp_path / "keys"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_a_folder_of_usable_keys_is_accepted(tmp_path):
    folder = _keys_dir(tmp_path, {"cgd.dg.p12": valid_p12(demo_ca(), "อธิบดี", PASSWORD)})
    roots = tmp_path / "roots.pem"
    roots.write_bytes(demo_ca().certificate.public_bytes(signed.serialization.Encoding.PEM))
    settings = Settings(
        **PRODUCTION,
        signing_keys_dir=folder,
        signing_keys_password=PASSWORD,
        signing_trust_roots=roots,
        signing_tsa_url="https://tsa.example.go.th/tsr",
    )
    assert settings.signing_keys_dir == folder


def test_a_wrong_password_refuses_to_start(tmp_path):
    folder = _keys_dir(tmp_path, {"cgd.dg.p12": valid_p12(demo_ca(), "อธิบดี", PASSWORD)})
    with pytest.raises(ValidationError, match="SARABUN_SIGNING_KEYS_PASSWORD: cannot open cgd.dg.p12"):
        Settings(**PRODUCTION, signing_keys_dir=folder, signing_keys_password="wrong")
    with pytest.raises(ValidationError, match="cannot open cgd.dg.p12"):
        Settings(**PRODUCTION, signing_keys_dir=folder)  # no password at all


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "expected"),
    [
        (-400, -10, "expired on"),
        (10, 400, "is not valid before"),
    ],
)
def test_a_certificate_out_of_its_validity_refuses_to_start(tmp_path, valid_from, valid_to, expected):
    now = datetime.now(UTC)
    key, issued = signed.certificate(
        demo_ca(), "ผู้ลงนาม", valid_from=now + timedelta(days=valid_from), valid_to=now + timedelta(days=valid_to)
    )
    folder = _keys_dir(
        tmp_path, {"cgd.dg.p12": valid_p12(demo_ca(), "อธิบดี", PASSWORD), AGENCY_KEY: signed.p12(key, issued, PASSWORD)}
    )
    with pytest.raises(ValidationError, match=f"the certificate in {AGENCY_KEY} {expected}"):
        Settings(**PRODUCTION, signing_keys_dir=folder, signing_keys_password=PASSWORD)


def test_other_unusable_signing_settings_refuse_to_start(tmp_path):
    with pytest.raises(ValidationError, match="SARABUN_SIGNING_KEYS_DIR: .* is not a folder"):
        Settings(**PRODUCTION, signing_keys_dir=tmp_path / "nowhere")
    with pytest.raises(ValidationError, match="no PKCS#12 file"):
        Settings(**PRODUCTION, signing_keys_dir=_keys_dir(tmp_path, {"readme.txt": b"keys go here"}))
    (tmp_path / "roots.pem").write_text("not a certificate")
    with pytest.raises(ValidationError, match="SARABUN_SIGNING_TRUST_ROOTS"):
        Settings(**PRODUCTION, signing_trust_roots=tmp_path / "roots.pem")
    with pytest.raises(ValidationError, match="SARABUN_SIGNING_TSA_URL"):
        Settings(**PRODUCTION, signing_tsa_url="tsa.example.go.th")
    with pytest.raises(ValidationError, match="SARABUN_GARUDA_IMAGE: no file"):
        Settings(**PRODUCTION, garuda_image=tmp_path / "garuda.png")


def test_the_process_refuses_to_start_with_a_plain_message(tmp_path, monkeypatch, capsys):
    folder = _keys_dir(tmp_path, {"cgd.dg.p12": valid_p12(demo_ca(), "อธิบดี", PASSWORD)})
    monkeypatch.setenv("SARABUN_DEMO", "1")
    monkeypatch.setenv("SARABUN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SARABUN_SIGNING_KEYS_DIR", str(folder))
    monkeypatch.setenv("SARABUN_SIGNING_KEYS_PASSWORD", "not-the-password")

    assert main(["run"]) == 2

    message = capsys.readouterr().err
    assert "configuration refused" in message and "cannot open cgd.dg.p12" in message
    assert "Traceback" not in message
    assert not (tmp_path / "var").exists()  # nothing started


def test_a_signers_own_key_is_preferred_to_the_agencys(tmp_path):
    folder = _keys_dir(
        tmp_path,
        {
            "cgd.dg.p12": valid_p12(demo_ca(), "นายอธิบดี", PASSWORD),
            AGENCY_KEY: valid_p12(demo_ca(), "กรมบัญชีกลาง", PASSWORD),
        },
    )
    keys = SigningKeys(keys_dir=folder, password=PASSWORD)
    assert keys.key_for("cgd.dg", "ignored").name == "นายอธิบดี"
    assert keys.key_for("cgd.head", "ignored").name == "กรมบัญชีกลาง"
    assert keys.key_for("../cgd.dg", "ignored").name == "กรมบัญชีกลาง"  # a username never reaches another path

    (folder / AGENCY_KEY).unlink()
    with pytest.raises(SigningRefused, match="ไม่มีกุญแจลงนามสำหรับ cgd.head") as refused:
        keys.key_for("cgd.head", "")
    assert refused.value.status == 422


def test_without_keys_outside_demo_mode_signing_is_refused_in_thai_and_english(tmp_path):
    keys = SigningKeys.from_settings(Settings(**PRODUCTION, data_dir=tmp_path))
    with pytest.raises(SigningRefused) as refused:
        keys.key_for("cgd.dg", "นายอธิบดี")
    assert refused.value.message.startswith("ยังไม่ได้ตั้งค่ากุญแจลงนาม")
    assert "SARABUN_SIGNING_KEYS_DIR" in refused.value.message
    assert keys.trust_roots() == []
    assert not (tmp_path / "signing").exists()


def test_demo_mode_keeps_a_ca_and_issues_each_signer_a_key_on_first_use(tmp_path):
    keys = SigningKeys.from_settings(Settings(demo=True, data_dir=tmp_path))
    assert not (tmp_path / "signing").exists()  # nothing made before it is needed

    deputy = keys.key_for("cgd.deputy", "นายสมศักดิ์ รักงาน")
    [root] = keys.trust_roots()
    assert certificate_name(root) == DEMO_CA_NAME
    assert deputy.certificate.issuer == root.subject
    assert deputy.name == "นายสมศักดิ์ รักงาน"

    again = SigningKeys.from_settings(Settings(demo=True, data_dir=tmp_path))  # another start, the same folder
    assert again.key_for("cgd.deputy", "another name").certificate == deputy.certificate
    assert again.trust_roots() == [root]
    assert keys.key_for("cgd.dg", "นายอธิบดี").certificate != deputy.certificate
    assert (tmp_path / "signing" / "demo-ca.pem").stat().st_mode & 0o077 == 0  # a private key: owner only
    long_name = keys.key_for("cgd.long", "นายสมศักดิ์ รักงานดีเยี่ยมมากที่สุดในกรมบัญชีกลาง")
    assert "นายสมศักดิ์ รักงาน".startswith(long_name.name[:10])  # cut to the 64 bytes a certificate name allows
    with pytest.raises(SigningRefused):
        keys.key_for("../../etc/passwd", "")


def test_configured_trust_roots_are_what_signatures_are_checked_against(tmp_path):
    pem = b"".join(ca.certificate.public_bytes(signed.serialization.Encoding.PEM) for ca in (demo_ca(), other_ca()))
    (tmp_path / "roots.pem").write_bytes(pem)
    keys = SigningKeys(trust_roots_file=tmp_path / "roots.pem")
    assert keys.trust_roots() == [demo_ca().certificate, other_ca().certificate]
