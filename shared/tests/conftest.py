import uuid

import pytest

from shared.db import Database


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, tmp_path):
    """The same tests against both databases the project supports; each gets an empty schema."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}", schema="test")
    else:
        url = request.getfixturevalue("postgres_url")
        db = Database(url, schema=f"t_{uuid.uuid4().hex[:8]}")
    yield db
    await db.dispose()
