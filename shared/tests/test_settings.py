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
