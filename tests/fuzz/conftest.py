import httpx
import pytest

from services.launcher import embedded
from shared.settings import Settings


@pytest.fixture
async def api(tmp_path):
    """The whole system in embedded mode behind the gateway's public API, as in tests/e2e."""
    deployment = embedded(Settings(demo=True, data_dir=tmp_path, consumer_retry_seconds=0.05))
    await deployment.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=deployment.app), base_url="http://sarabun"
    ) as client:
        yield client
    await deployment.stop()
