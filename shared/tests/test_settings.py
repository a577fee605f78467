import pytest
from pydantic import ValidationError

from shared.settings import Settings


def test_embedded_demo_needs_no_configuration(tmp_path):
    settings = Settings(demo=True, data_dir=tmp_path)
    assert settings.database_url_for("intake") == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/intake.db"
    assert settings.bus_url == "memory://"


def test_outside_demo_mode_default_secrets_are_refused(monkeypatch):
    monkeypatch.delenv("SARABUN_DEMO", raising=False)
    with pytest.raises(ValidationError, match="SARABUN_JWT_SECRET"):
        Settings()
    with pytest.raises(ValidationError, match="SARABUN_SERVICE_SECRET"):
        Settings(jwt_secret="j" * 40, service_secret="short")
    assert Settings(jwt_secret="j" * 40, service_secret="s" * 40).demo is False


def test_thai_text_is_composed_and_stripped_of_disguising_characters():
    from shared.thai import clean, date_th

    assert clean("น\u0e4d\u0e49\u0e32") == "น้ำ" and clean("การน\u0e4d\u0e32ส่ง") == "การนำส่ง"
    assert clean("e\u0301") == "é"
    assert clean("\u202eabc\u0000 ") == "abc" and clean("บรรทัด\nใหม่") == "บรรทัด\nใหม่"
    assert clean("a\x7fb\x85c\u061cd") == "abcd"  # DEL, a C1 control, the Arabic letter mark
    assert clean("ก\ud800ข\udfff") == "กข"  # lone surrogates, as JSON's \\ud800 escape decodes
    from datetime import UTC, datetime

    assert date_th(datetime(2026, 11, 23, 18, 0, tzinfo=UTC)) == "24 พฤศจิกายน 2569"  # Bangkok is UTC+7


def test_mail_settings_are_complete_or_refused(tmp_path):
    assert Settings(demo=True, data_dir=tmp_path).smtp_host is None  # no server: notifications in the page only
    with pytest.raises(ValidationError, match="SARABUN_SMTP_FROM"):
        Settings(demo=True, smtp_host="smtp.example.go.th")
    with pytest.raises(ValidationError, match="SARABUN_SMTP_PASSWORD"):
        Settings(demo=True, smtp_host="smtp.example.go.th", smtp_from="saraban@example.go.th", smtp_username="u")
    with pytest.raises(ValidationError):
        Settings(demo=True, smtp_tls="ssl")
    with pytest.raises(ValidationError):
        Settings(demo=True, notify_digest_time="7 โมงเช้า")
    assert Settings(demo=True, notify_digest_time="18:30").notify_digest_time == "18:30"
