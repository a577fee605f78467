"""`sarabun directory import|export` on a fresh SQLite data folder outside demo mode: a dry run changes
nothing, an import applies and is logged as `cli`, the export comes back unchanged, a bad file exits 2
naming its rows."""

from __future__ import annotations

import json
import sqlite3

import pytest

from services.launcher import main
from shared.seed import SAMPLE_DIRECTORY

SECRET = "a-real-secret-of-more-than-thirty-two-characters"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SARABUN_DEMO", raising=False)
    monkeypatch.delenv("SARABUN_DATABASE_URL", raising=False)
    monkeypatch.setenv("SARABUN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SARABUN_JWT_SECRET", SECRET)
    monkeypatch.setenv("SARABUN_SERVICE_SECRET", SECRET)
    return tmp_path


def exported(data_dir, capsys) -> dict:
    assert main(["directory", "export"]) == 0
    return json.loads(capsys.readouterr().out)


def outbox_actors(data_dir) -> list[tuple[str, str]]:
    with sqlite3.connect(data_dir / "var" / "routing.db") as db:
        rows = db.execute("SELECT type, body FROM outbox ORDER BY seq").fetchall()
    return [(kind, json.loads(body)["actor"]) for kind, body in rows]


def test_a_dry_run_then_an_import_then_an_export_that_imports_back_unchanged(data_dir, capsys):
    assert main(["directory", "import", str(SAMPLE_DIRECTORY), "--dry-run"]) == 0
    assert "dry run: 33 to add, 0 to change, 0 to retire" in capsys.readouterr().out
    assert exported(data_dir, capsys) == {"units": []}

    assert main(["directory", "import", str(SAMPLE_DIRECTORY)]) == 0
    out = capsys.readouterr().out
    assert "imported: 33 added" in out and "  + cgd.budget  กองบริหารการเบิกจ่ายเงินงบประมาณ" in out
    assert exported(data_dir, capsys) == json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    assert set(outbox_actors(data_dir)) == {("directory.unit.added.v1", "cli")}

    csv_file = data_dir / "directory.csv"
    assert main(["directory", "export", "--out", str(csv_file)]) == 0
    assert csv_file.read_bytes().startswith("\ufeffรหัสหน่วยงาน".encode())
    capsys.readouterr()
    assert main(["directory", "import", str(csv_file)]) == 0
    assert "imported: 0 added, 0 changed, 0 retired" in capsys.readouterr().out
    assert len(outbox_actors(data_dir)) == 33


def test_a_bad_file_exits_2_naming_its_rows_and_changes_nothing(data_dir, capsys):
    bad = data_dir / "bad.csv"
    bad.write_text("key,name,code,kind,parent_key\nmof,กระทรวงการคลัง,กค,ministry,\na,กองเอ,กค 1,division,a\n")
    assert main(["directory", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "แถว 2 [parent_key]: หน่วยงานต้นสังกัดวนกลับมาที่หน่วยงานนี้ (the parents form a cycle)" in err
    malformed = data_dir / "malformed.csv"
    malformed.write_text("key,name,code,kind\nmof,กระทรวงการคลัง,กค\n")
    assert main(["directory", "import", str(malformed)]) == 2
    assert "แถว 1: " in capsys.readouterr().err
    assert main(["directory", "import", str(data_dir / "missing.json")]) == 2
    assert exported(data_dir, capsys) == {"units": []}


def test_outside_demo_mode_weak_secrets_are_refused(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("SARABUN_SERVICE_SECRET", "short")
    assert main(["directory", "export"]) == 2
    assert "SARABUN_SERVICE_SECRET" in capsys.readouterr().err


def test_seed_loads_the_sample_once_and_announces_each_unit_once(data_dir, capsys):
    for _ in range(2):
        assert main(["seed"]) == 0
    assert exported(data_dir, capsys) == json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    # Announced like any import (the services keeping a copy of the directory learn the units so), once.
    assert outbox_actors(data_dir) == [("directory.unit.added.v1", "system")] * 33
