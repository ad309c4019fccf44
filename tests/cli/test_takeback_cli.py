"""``--opt-out-list`` on pseudonymise, scan, upload sheet and upload images; ``nccid withdraw``,
``nccid images remove`` and the controller's key commands; against the real service."""

from __future__ import annotations

import json
from pathlib import Path

from nccid_desktop.cli import main
from nccid_desktop.keys import generate_site_keys, save_key_file
from nccid_desktop.pseudonym import open_linkage_token, pseudonym_for
from nccid_desktop.sheets.definitions import STATUS
from tests.sheets.builders import hospital_number, nhs_number, save_workbook, status_row
from tests.workflows.send_setup import export, sheet


def _opt_outs(tmp_path: Path, *seeds: int) -> Path:
    path = tmp_path / "opt-outs.txt"
    path.write_text("".join(f"{nhs_number(s)}\n" for s in seeds))
    return path


def test_pseudonymise_leaves_out_opted_out_rows_and_says_how_many(tmp_path, capsys) -> None:
    keys, _ = generate_site_keys("RSH")
    save_key_file(keys, tmp_path / "keys.json")
    status = save_workbook(tmp_path / "s.xlsx", STATUS, [status_row(s) for s in (1, 2, 3)])
    args = ["pseudonymise", str(status), "--key-file", str(tmp_path / "keys.json"), "--site",
            "RSH", "--out", str(tmp_path / "out"), "--today", "2026-11-25"]
    assert main([*args, "--opt-out-list", str(_opt_outs(tmp_path, 2))]) == 0
    out = capsys.readouterr().out
    assert "1 patient has opted out" in out and "2 record file(s) written" in out
    assert nhs_number(2) not in out
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert f"{pseudonym_for(keys, hospital_number=hospital_number(2))}_status.json" not in written
    assert len(written) == 2
    (tmp_path / "bad.txt").write_text(f"{nhs_number(1)}\nnot a number\n")
    assert main([*args, "--opt-out-list", str(tmp_path / "bad.txt")]) != 0
    err = capsys.readouterr().err
    assert "line 2" in err and "Traceback" not in err


def test_upload_sheet_and_images_with_an_opt_out_list_send_nothing_of_the_listed(
        tmp_path, signed_env, capsys) -> None:
    status = sheet(tmp_path / "status.xlsx", [1401, 1402])
    listed = str(_opt_outs(tmp_path, 1401))
    assert main(["upload", "sheet", str(status), "--opt-out-list", listed]) == 0
    out = capsys.readouterr().out
    assert "1 patient has opted out" in out and "Records: 1 stored" in out
    pacs = export(tmp_path / "pacs", [1401, 1402], 2)
    assert main(["upload", "images", str(pacs), "--sheet", str(status),
                 "--opt-out-list", listed]) == 0
    out = capsys.readouterr().out
    assert "1 patient has opted out: 2 images of theirs left out" in out
    assert "Images: 2 stored" in out
    assert nhs_number(1401) not in out and hospital_number(1401) not in out
    assert len(signed_env.raw_files("images")) == 2 and len(signed_env.raw_files("data")) == 1


def test_scan_shows_opted_out_series_as_left_out(tmp_path, capsys) -> None:
    keys, _ = generate_site_keys("RSH")
    save_key_file(keys, tmp_path / "keys.json")
    status = sheet(tmp_path / "status.xlsx", [1501, 1502])
    pacs = export(tmp_path / "pacs", [1501, 1502], 1)
    assert main(["scan", str(pacs), "--key-file", str(tmp_path / "keys.json"), "--sheet",
                 str(status), "--format", "json", "--workers", "1",
                 "--opt-out-list", str(_opt_outs(tmp_path, 1501))]) == 0
    report = json.loads(capsys.readouterr().out)
    text = json.dumps(report)
    assert "opted_out" in text and nhs_number(1501) not in text


def test_withdraw_asks_shows_what_is_held_and_removes_it(tmp_path, signed_env, capsys,
                                                         monkeypatch) -> None:
    status = sheet(tmp_path / "status.xlsx", [1601])
    assert main(["upload", "sheet", str(status)]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["withdraw", nhs_number(1601), "--reason", "opt-out"]) != 0
    assert "confirm with --yes" in capsys.readouterr().err
    assert len(signed_env.raw_files("data")) == 1
    assert main(["withdraw", nhs_number(1601), "--reason", "opt-out", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "holds 1 clinical record" in out and "Withdrawn on" in out
    assert signed_env.raw_files("data") == []
    assert main(["withdraw", nhs_number(1601), "--reason", "opt-out", "--yes"]) == 0
    assert "This patient was withdrawn on" in capsys.readouterr().out
    assert main(["upload", "sheet", str(status)]) == 1
    assert "This patient was withdrawn on" in capsys.readouterr().out
    assert main(["summary"]) == 0
    assert "no retention period set" in capsys.readouterr().out
    assert main(["withdraw", "12345", "--reason", "opt-out", "--yes"]) != 0
    assert main(["images", "remove", "--study", "1.2.3.999"]) != 0
    assert "holds no images of this study" in capsys.readouterr().err


def test_controller_key_pair_commands_round_trip(tmp_path, capsys) -> None:
    from nccid_desktop.keys import SiteKeys
    from nccid_desktop.pseudonym import linkage_token

    assert main(["keys", "controller-generate", "-o", str(tmp_path / "c.pem")]) == 0
    public = (tmp_path / "c.pub.pem").read_bytes()
    assert (tmp_path / "c.pem").stat().st_mode & 0o077 == 0
    assert main(["keys", "controller-public", "--private-key", str(tmp_path / "c.pem"),
                 "-o", str(tmp_path / "again.pem")]) == 0
    assert (tmp_path / "again.pem").read_bytes() == public
    keys = SiteKeys("RSH", b"k" * 32, public)
    token = linkage_token(keys, nhs_number(7))
    assert open_linkage_token((tmp_path / "c.pem").read_bytes(), token, "RSH") == nhs_number(7)
    (tmp_path / "junk.pem").write_text("not a key")
    assert main(["keys", "controller-public", "--private-key", str(tmp_path / "junk.pem"),
                 "-o", str(tmp_path / "x.pem")]) != 0
    assert "not an unencrypted PEM private key" in capsys.readouterr().err
