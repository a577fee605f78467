"""How a register row becomes a CSV record."""

from gateway.api.registers import csv_record


def row(**change) -> dict:
    base = {
        "register_no": 12,
        "doc_no": "กค 0200/12",
        "date_th": "24 พฤศจิกายน 2569",
        "from": "สำนักงานปลัดกระทรวงการคลัง",
        "to": "กรมบัญชีกลาง, กรมสรรพากร",
        "subject": "ขอเชิญประชุม",
        "action": "",
        "remark": "",
        "registered_at": "2026-12-31T17:05:00+00:00",
    }
    return {**base, **change}


def test_send_records_follow_the_official_columns():
    assert csv_record("send", row()) == [
        "12",
        "กค 0200/12",
        "24 พฤศจิกายน 2569",
        "สำนักงานปลัดกระทรวงการคลัง",
        "กรมบัญชีกลาง, กรมสรรพากร",
        "ขอเชิญประชุม",
        "",
        "",
    ]


def test_receive_records_add_the_bangkok_date_and_time_of_receipt():
    # 17:05 UTC on 31 December is 00:05 on 1 January in Bangkok: the Buddhist-era year moves on too.
    assert csv_record("receive", row(action="ลงรับแล้ว"))[6:] == ["ลงรับแล้ว", "", "1 มกราคม 2570", "00.05"]


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_kept_as_text():
    record = csv_record("send", row(subject='=HYPERLINK("http://x")', remark="@SUM(A1)"))
    assert record[5] == '\'=HYPERLINK("http://x")' and record[7] == "'@SUM(A1)"
    assert csv_record("send", row())[5] == "ขอเชิญประชุม"
