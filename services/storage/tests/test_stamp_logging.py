"""A stamped PDF leaves no trace of the font subsetting in the service log at the default levels: fontTools
writes a dozen INFO lines per subset, and a service's log is for what an operator acts on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from services.storage.domain.stamp import ReceiptStamp, stamp_pdf
from services.storage.tests import files
from shared.settings import Settings
from shared.web import LIBRARY_LOGGERS, setup_logging

STAMP = ReceiptStamp(unit_name="กรมบัญชีกลาง", receive_no=7, received_at=datetime(2026, 11, 24, 2, 5, tzinfo=UTC))


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def service_log():
    """The logging a service process sets up from its settings, with every record it lets through collected."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    collect = Collect()

    def configure(**env) -> list[logging.LogRecord]:
        settings = Settings(demo=True, **env)
        setup_logging(settings.log_level, settings.library_log_level)
        root.addHandler(collect)
        return collect.records

    yield configure
    root.handlers[:], level, libraries = saved
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)


def library_records(records: list[logging.LogRecord], below: int = logging.WARNING) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in records if r.name.startswith("fontTools") and r.levelno < below]


def test_stamping_writes_no_font_subsetting_lines_at_the_default_level(service_log):
    records = service_log()
    logging.getLogger("sarabun.storage").info("stamping")
    stamp_pdf(files.real_pdf(1), STAMP)
    assert library_records(records) == []
    assert any(r.name == "sarabun.storage" for r in records), "Sarabun's own INFO lines still reach the log"


def test_the_library_level_can_be_raised_to_debug_a_problem(service_log):
    records = service_log(library_log_level="INFO")
    stamp_pdf(files.real_pdf(1), STAMP)
    assert library_records(records), "fontTools' INFO lines come back when asked for"
