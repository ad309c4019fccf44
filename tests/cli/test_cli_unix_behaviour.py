"""``nccid`` behaves like a Unix tool: a closed pipe ends quietly, one exit code per kind of
failure in every command (documented in ``--help``), messages name the path concerned, and an
empty scan says that no DICOM files were found."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nccid_desktop.cli import build_parser, main
from tests.dicom._scan_builders import make_dataset, write_dicom

NCCID = Path(sys.executable).with_name("nccid")


def _env(tmp_path: Path) -> dict[str, str]:
    return {"NCCID_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin",
            "QT_QPA_PLATFORM": "offscreen"}


@pytest.fixture
def big_export(tmp_path: Path) -> Path:
    """Enough patients that the text report is far larger than a pipe's buffer."""
    root = tmp_path / "export"
    for number in range(120):
        write_dicom(root / f"IM{number}", make_dataset(
            patient_id=f"PX{number:05d}", patient_name=f"PERSON^NUMBER{number}",
            modality="CR", study_date="20200310", series=str(number),
            series_description="CHEST PA " + "X" * 50))
    return root


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_closed_pipe_ends_quietly(big_export: Path, tmp_path: Path, output: str) -> None:
    """``nccid scan ... | head -1``: the reader goes away after one line; no message, no
    traceback, and the exit status a shell gives a command ended by SIGPIPE."""
    reader_gone = subprocess.Popen(
        [str(NCCID), "scan", str(big_export), "--format", output, "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(tmp_path))
    assert reader_gone.stdout is not None and reader_gone.stderr is not None
    reader_gone.stdout.readline()
    reader_gone.stdout.close()  # what head does after its line
    err = reader_gone.stderr.read().decode()
    assert reader_gone.wait(timeout=120) in (0, 141)
    assert err == "", err


def test_help_documents_the_exit_codes() -> None:
    text = build_parser().format_help()
    for line in ("0    done", "1    problems found", "2    bad input or usage", "141"):
        assert line in text


def _sheet_book(tmp_path: Path) -> Path:
    from nccid_desktop.sheets.definitions import template_by_id
    from nccid_desktop.sheets.writer import build_template

    path = tmp_path / "status.xlsx"
    build_template(template_by_id("status")).save(path)
    return path


def test_a_missing_input_exits_2_in_every_command_and_names_the_path(
        tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no such folder"
    absent_sheet = tmp_path / "absent.xlsx"
    absent_key = tmp_path / "absent-key.json"
    sheet = _sheet_book(tmp_path)
    commands = [
        ["scan", str(missing)],
        ["scan", str(tmp_path), "--key-file", str(key_file), "--records",
         str(tmp_path / "absent.json")],
        ["scan", str(tmp_path), "--key-file", str(absent_key)],
        ["deid", str(missing), "--out", str(tmp_path / "out"), "--key-file", str(key_file),
         "--site", "RSH"],
        ["validate", str(absent_sheet)],
        ["pseudonymise", str(absent_sheet), "--key-file", str(key_file), "--site", "RSH",
         "--out", str(tmp_path / "o")],
        ["pseudonymise", str(sheet), "--key-file", str(absent_key), "--site", "RSH",
         "--out", str(tmp_path / "o")],
        ["upload", "images", str(missing)],
        ["upload", "sheet", str(absent_sheet)],
        ["template", "upgrade", str(absent_sheet), "-o", str(tmp_path / "new.xlsx")],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        named = next(p for p in (missing, absent_sheet, absent_key, tmp_path / "absent.json")
                     if str(p) in " ".join(argv))
        assert str(named) in err, (argv, err)
        assert "Traceback" not in err


def test_usage_errors_exit_2_and_problems_found_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = _sheet_book(tmp_path)
    assert main(["template", "upgrade", "-o", str(tmp_path / "n.xlsx")]) == 2
    assert main(["template", "main", str(sheet), "-o", str(tmp_path / "n.xlsx")]) == 2
    assert main(["validate", str(sheet), "--hospital-pattern", "RR[0-9"]) == 2
    assert main(["scan", str(tmp_path), "--workers", "0"]) == 2
    assert main(["scan", str(tmp_path), "--records", str(sheet)]) == 2
    capsys.readouterr()


def test_an_empty_scan_says_no_dicom_files_were_found(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("a.txt", "b.pdf", "c.jpg"):
        (folder / name).write_bytes(b"not an image " * 10)
    assert main(["scan", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "No DICOM files were found (3 other files skipped)" in out
    assert main(["scan", str(folder), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert any("No DICOM files were found" in w for w in report["warnings"])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["scan", str(empty)]) == 0
    assert "No DICOM files were found (the folders given hold no files)" in (
        capsys.readouterr().out)
    write_dicom(folder / "IM1", make_dataset(modality="CR", study_date="20200310"))
    assert main(["scan", str(folder)]) == 0
    assert "No DICOM files" not in capsys.readouterr().out


def test_paths_named_on_screen_never_reach_the_log(tmp_path: Path) -> None:
    missing = tmp_path / "FOTHERINGAY MARGARET"
    run = subprocess.run([str(NCCID), "scan", str(missing)], capture_output=True, text=True,
                         timeout=60, env=_env(tmp_path))
    assert run.returncode == 2
    assert str(missing) in run.stderr
    logs = "".join(p.read_text() for p in (tmp_path / "home" / "logs").glob("*")
                   ) if (tmp_path / "home" / "logs").exists() else ""
    assert "FOTHERINGAY" not in logs
