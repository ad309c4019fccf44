"""``nccid upload images``: the link report with the sheets, series ticked in by the user (with
the rules they override kept in the job and the log), series left out, a selection file, and
the negative window setting; against the real collection service."""

from __future__ import annotations

import json

from nccid_desktop.cli import main
from nccid_desktop.pseudonym import remap_uid
from nccid_desktop.transport.client import CollectorClient
from nccid_desktop.transport.outbox import Outbox
from tests.dicom.builders import ct_slice
from tests.sheets.builders import hospital_number
from tests.workflows.send_setup import export, patient, sheet

SLICES = 2


def _series_uid(seed: int) -> str:
    return ct_slice(patient=patient(seed), series=seed).SeriesInstanceUID


def test_the_link_report_a_ticked_in_series_and_a_left_out_one(tmp_path, signed_env, capsys,
                                                               caplog) -> None:
    pacs = export(tmp_path / "pacs", [971, 972, 973], SLICES)
    status = sheet(tmp_path / "status.xlsx", [971, 973, 974])  # 974 has no images here
    caplog.set_level("INFO", logger="nccid_desktop")
    assert main(["upload", "images", str(pacs), "--sheet", str(status),
                 "--include-series", _series_uid(972),
                 "--exclude-series", _series_uid(973)]) == 0
    out = capsys.readouterr().out
    assert "1 patient on the sheet has no images in this export:" in out
    assert f"row 4: {hospital_number(974)}" in out or hospital_number(974) in out
    assert "1 study belongs to no patient on the sheet:" in out
    assert "Included by you: series 972 (CT), left out as: Not linked to a clinical record" \
        in out
    assert "Excluded by you" in out
    assert f"Images: {2 * SLICES} stored, 0 already held." in out
    stored = {p.stem for p in signed_env.raw_files("images")}
    assert len(stored) == 2 * SLICES
    outbox = Outbox()
    series = outbox.jobs.series(1)  # the first job of this test's own home folder
    assert [s.included_by_user for s in series] == [(), ("not_linked",)]
    outbox.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "included by the user although left out as not_linked" in logged
    assert hospital_number(972) not in logged and hospital_number(974) not in logged


def test_a_selection_file_of_de_identified_series_uids(tmp_path, signed_env, capsys) -> None:
    pacs = export(tmp_path / "pacs", [975, 976], SLICES)
    status = sheet(tmp_path / "status.xlsx", [975])
    choice = tmp_path / "choice.json"
    # the de-identified series UID (as 'nccid scan --key-file --format json' shows it)
    assert main(["upload", "images", str(pacs), "--sheet", str(status), "--exclude-series",
                 _series_uid(975)]) == 0  # nothing to send: 975 left out, 976 not linked
    assert "No images to send." in capsys.readouterr().out
    client = CollectorClient(signed_env.url)
    client.sign_in(signed_env.account.username, signed_env.account.password)
    keys = client.site_keys()
    choice.write_text(json.dumps({"included": [remap_uid(keys, _series_uid(976))]}))
    assert main(["upload", "images", str(pacs), "--sheet", str(status), "--selection",
                 str(choice)]) == 0
    out = capsys.readouterr().out
    assert "Included by you: series 976" in out
    assert f"Images: {2 * SLICES} stored" in out
    assert main(["upload", "images", str(pacs), "--include-series", "1.2.3.4.5"]) == 2
    assert "not in this export (the first: 1.2.3.4.5)" in capsys.readouterr().err
    choice.write_text("[1, 2]")
    assert main(["upload", "images", str(pacs), "--selection", str(choice)]) == 2
    assert "is not a scan report" in capsys.readouterr().err
