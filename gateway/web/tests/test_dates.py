"""Dates typed into the forms in the Buddhist era, and shown back the same way."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from gateway.web.dates import DateRefused, parse_day, parse_moment, typed_day, typed_moment
from shared.thai import BANGKOK


@pytest.mark.parametrize(
    "typed",
    [
        "2/12/2569",
        "02/12/2569",
        "2-12-2569",
        "2.12.2569",
        "2 ธ.ค. 2569",
        "2 ธ.ค 2569",
        "2 ธค 2569",
        "2 ธันวาคม 2569",
        "2ธันวาคม2569",
        "วันที่ 2 ธันวาคม พ.ศ. 2569",
        "๒ ธ.ค. ๒๕๖๙",
        "2 Dec 2569",
        "2 december 2569",
        "2 ธันวา 2569",
        "  2 / 12 / 2569  ",
    ],
)
def test_a_buddhist_era_day_is_read_in_every_usual_form(typed):
    assert parse_day(typed) == date(2026, 12, 2)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1 ม.ค. 2570", date(2027, 1, 1)),
        ("15 ก.พ. 2569", date(2026, 2, 15)),
        ("3 มี.ค. 2569", date(2026, 3, 3)),
        ("30 เม.ย. 2569", date(2026, 4, 30)),
        ("31 พ.ค. 2569", date(2026, 5, 31)),
        ("1 มิ.ย. 2569", date(2026, 6, 1)),
        ("31 ก.ค. 2569", date(2026, 7, 31)),
        ("31 ส.ค. 2569", date(2026, 8, 31)),
        ("30 ก.ย. 2569", date(2026, 9, 30)),
        ("31 ต.ค. 2569", date(2026, 10, 31)),
        ("30 พ.ย. 2569", date(2026, 11, 30)),
        ("1 กรกฎาคม 2569", date(2026, 7, 1)),
    ],
)
def test_every_thai_month_abbreviation_is_known(typed, expected):
    assert parse_day(typed) == expected


def test_nothing_typed_is_no_date():
    assert parse_day("") is None
    assert parse_day("   ") is None
    assert parse_moment("") is None


def test_the_leap_day_exists_in_2567_and_not_in_2568():
    assert parse_day("29 ก.พ. 2567") == date(2024, 2, 29)
    with pytest.raises(DateRefused, match="ไม่มีวันที่ 29 กุมภาพันธ์ 2568"):
        parse_day("29 ก.พ. 2568")


@pytest.mark.parametrize("typed", ["2/12/2026", "2 ธ.ค. 2026", "2026-12-02"])
def test_a_gregorian_year_typed_by_mistake_is_refused_with_the_buddhist_year_to_use(typed):
    with pytest.raises(DateRefused) as refused:
        parse_day(typed)
    assert "ปีพุทธศักราช" in str(refused.value)
    assert "2569" in str(refused.value)


@pytest.mark.parametrize("typed", ["32/1/2569", "1/13/2569", "พรุ่งนี้", "2 ธันว์ 2569", "1/1/9999", "12/2569"])
def test_what_is_not_a_date_is_refused_in_thai(typed):
    with pytest.raises(DateRefused) as refused:
        parse_day(typed)
    assert any("\u0e00" <= ch <= "\u0e7f" for ch in str(refused.value))


@pytest.mark.parametrize(
    "typed",
    ["2/12/2569 14:30", "2/12/2569 14.30", "2 ธ.ค. 2569 14.30 น.", "2 ธ.ค. 2569 เวลา 14:30 น.", "2/12/2569, 14:30"],
)
def test_a_moment_is_bangkok_time(typed):
    found = parse_moment(typed)
    assert found == datetime(2026, 12, 2, 14, 30, tzinfo=BANGKOK)
    assert found.isoformat() == "2026-12-02T14:30:00+07:00"


def test_a_deadline_without_a_time_runs_to_the_end_of_office_hours():
    assert parse_moment("2/12/2569") == datetime(2026, 12, 2, 16, 30, tzinfo=BANGKOK)
    assert parse_moment("2/12/2569", default=time(0, 0)).hour == 0


def test_a_time_that_does_not_exist_is_refused():
    with pytest.raises(DateRefused, match="เวลา 25:00"):
        parse_moment("2/12/2569 25:00")


def test_dates_are_shown_back_as_they_are_typed_and_read_back_the_same():
    assert typed_day(date(2026, 12, 2)) == "2/12/2569"
    assert typed_day("2024-02-29") == "29/2/2567"
    # stored in UTC, shown in Bangkok: 20:00 UTC is 03:00 the next morning
    assert typed_moment("2026-12-01T20:00:00+00:00") == "2/12/2569 03:00"
    for moment in ("2026-12-02T14:30:00+07:00", "2024-02-29T08:05:00+07:00"):
        assert parse_moment(typed_moment(moment)).isoformat() == moment
    assert typed_day("") == ""
