# The running-service fixture lives with the tests that introduced it; the other test modules use it from here.
from services.storage.tests.test_service import start  # noqa: F401
