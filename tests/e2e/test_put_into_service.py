"""Put into service in embedded mode: SARABUN_DEMO unset, real secrets, the first administrator made by the
command line on the fresh database, sign-in through a real OpenID Connect provider (tests/adoption.py)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import httpx
import pytest

from services.launcher import embedded
from shared.settings import Settings
from tests.adoption import ADMIN, ADMIN_PASSWORD, put_into_service

SECRETS = {
    "SARABUN_JWT_SECRET": "jwt-secret-of-this-agency-" + "j" * 24,
    "SARABUN_SERVICE_SECRET": "service-secret-of-this-agency-" + "s" * 24,
    "SARABUN_AUDIT_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
}


def production_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SARABUN_DEMO"}
    return env | SECRETS | {"SARABUN_LOG_LEVEL": "WARNING"} | settings


def create_first_admin(env: dict[str, str]) -> None:
    """`sarabun admin create`, the password on standard input, as an operator would run it."""
    command = [sys.executable, "-m", "services.launcher", "admin", "create", ADMIN, "--display-name", "ผู้ดูแลระบบ"]
    done = subprocess.run(command, input=ADMIN_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"administrator {ADMIN} created" in done.stdout


@pytest.fixture
async def api(tmp_path, oidc_provider):
    create_first_admin(production_env(SARABUN_DATA_DIR=str(tmp_path)))
    settings = Settings(
        demo=False,
        data_dir=tmp_path,
        jwt_secret=SECRETS["SARABUN_JWT_SECRET"],
        service_secret=SECRETS["SARABUN_SERVICE_SECRET"],
        audit_signing_key=SECRETS["SARABUN_AUDIT_SIGNING_KEY"],
        oidc_issuer=oidc_provider,
        oidc_client_id="sarabun",
        oidc_client_secret="client-secret-of-this-agency",
        consumer_retry_seconds=0.05,
    )
    deployment = embedded(settings)
    await deployment.start()
    transport = httpx.ASGITransport(app=deployment.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sarabun.test", timeout=30) as client:
        yield client
    await deployment.stop()


async def test_an_agency_puts_sarabun_into_service_without_demo_mode(api, oidc_provider):
    await put_into_service(api, oidc_provider)
