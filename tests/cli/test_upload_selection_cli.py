"""``nccid upload images --exclude-series`` and ``--selection``: the series a PACS user left
out after reading ``nccid scan --format json`` stay out; the rest is sent; a selection that
names series the export does not hold is refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nccid_desktop.cli import main
from tests.transport.collector_fixture import RunningCollector, running_collector
from tests.workflows.send_setup import export, sheet

SLICES = 2


@pytest.fixture
def collector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunningCollector:
    with running_collector(tmp_path / "service") as running:
        monkeypatch.setenv("NCCID_SERVER", running.url)
        monkeypatch.setenv("NCCID_USER", running.account.username)
        monkeypatch.setenv("NCCID_PASSWORD", running.account.password)
        yield running


def _scan(pacs: Path, capsys) -> dict:
    assert main(["scan", str(pacs), "--format", "json", "--show-identifiers"]) in (0, 1)
    return json.loads(capsys.readouterr().out)


def _series(report: dict) -> list[dict]:
    return [s for p in report["patients"] for st in p["studies"] for s in st["series"]]


def test_a_scan_report_with_a_series_set_to_excluded_is_sent_without_it(
        tmp_path, collector, capsys):
    pacs = export(tmp_path / "pacs", [801, 802], SLICES)
    status = sheet(tmp_path / "status.xlsx", [801, 802])
    report = _scan(pacs, capsys)
    first, second = _series(report)
    first["included"], second["included"] = True, False
    chosen = tmp_path / "scan.json"
    chosen.write_text(json.dumps(report), encoding="utf-8")
    code = main(["upload", "images", str(pacs), "--sheet", str(status), "--selection",
                 str(chosen)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Excluded by you" in out
    assert len(collector.raw_files("images")) == SLICES  # one series of two


def test_exclude_series_leaves_that_series_out(tmp_path, collector, capsys):
    pacs = export(tmp_path / "pacs", [811, 812], SLICES)
    status = sheet(tmp_path / "status.xlsx", [811, 812])
    left_out = _series(_scan(pacs, capsys))[1]["series_uid"]
    assert main(["upload", "images", str(pacs), "--sheet", str(status), "--exclude-series",
                 left_out]) == 0
    assert len(collector.raw_files("images")) == SLICES


def test_a_selection_naming_another_export_is_refused_before_sending(tmp_path, collector,
                                                                     capsys):
    pacs = export(tmp_path / "pacs", [821], SLICES)
    chosen = tmp_path / "other.json"
    chosen.write_text(json.dumps({"included": [], "excluded": ["1.2.3.4.5"]}), encoding="utf-8")
    assert main(["upload", "images", str(pacs), "--selection", str(chosen)]) == 2
    err = capsys.readouterr().err
    assert "not in this export" in err and "Traceback" not in err
    assert collector.raw_files("images") == []
    chosen.write_text("not json", encoding="utf-8")
    assert main(["upload", "images", str(pacs), "--selection", str(chosen)]) == 2
    assert "is not JSON" in capsys.readouterr().err
