"""Outputs judged by programs we did not write: dcmtk's ``dcmdump`` and dicom3tools' ``dciodvfy``.

Also the properties the warehouse relies on: the same input gives byte-identical output, the
pseudonym equals the one the spreadsheet path computes for the same hospital number, and
compressed pixel data passes through byte for byte.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydicom import dcmread

from nccid_desktop.keys import SiteKeys
from nccid_desktop.sheets.definitions import template_by_id
from nccid_desktop.sheets.payload import build_envelopes
from nccid_desktop.sheets.validator import validate_workbook
from tests.dicom import builders
from tests.sheets import builders as sheet_builders

#: dciodvfy findings the profile causes on purpose, each for a stated reason. A line naming
#: one of these attributes is not counted as a new error of the output.
EXPECTED_BY_PROFILE = {
    # Type 2 attributes the Basic Profile empties (Z): dciodvfy warns about empty values only
    # where the IOD does not allow them; the profile must not keep the value.
    "AccessionNumber", "ReferringPhysicianName", "StudyID", "PatientBirthDate",
    # Type 1/2 values replaced with a dummy or emptied (combined actions X/Z, X/Z/D):
    "InstitutionName", "OperatorsName", "StationName",
    # PatientIdentityRemoved + DeidentificationMethod(CodeSequence) are added; older
    # dictionaries in dciodvfy may not know every CID 7050 code.
    "DeidentificationMethodCodeSequence", "DeidentificationMethod", "CodeMeaning",
}
_ERROR = re.compile(r"^Error - ")


@dataclass(frozen=True)
class Staged:
    source: Path
    output: Path


def _deidentify(source: Path, out_dir: Path, keys: SiteKeys) -> Path:
    from nccid_desktop.dicom.deid.one_file import DeidContext, deidentify_file

    outcome = deidentify_file(source, out_dir, DeidContext(keys=keys),
                              quarantine_dir=out_dir.parent / "quarantine")
    assert outcome.status == "deidentified", (outcome.code, outcome.message)
    assert outcome.output is not None
    return outcome.output


def _sources(folder: Path) -> list[Path]:
    datasets = {
        "ct": builders.ct_slice(),
        "ct_nested": builders.add_private_tags(builders.add_nested_sequences(
            builders.ct_slice(instance=2))),
        "cr_rle": builders.compress_rle(builders.cr_image()),
        "dx": builders.dx_image(),
        "dx_jpeg": builders.fake_jpeg_baseline(builders.dx_image(instance=2)),
        "mr_implicit": builders.implicit_little_endian(builders.mr_image()),
    }
    return [builders.write(ds, folder / name) for name, ds in datasets.items()]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory, site_keys: SiteKeys) -> list[Staged]:
    folder = tmp_path_factory.mktemp("interop")
    return [Staged(s, _deidentify(s, folder / "out", site_keys))
            for s in _sources(folder / "source")]


def _ids(staged_list: list[Staged]) -> list[str]:
    return [s.source.name for s in staged_list]


def test_dcmdump_parses_every_output(staged: list[Staged]) -> None:
    for item in staged:
        result = subprocess.run(["dcmdump", "-q", "+E", str(item.output)],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, (item.source.name, result.stderr)
        assert "(0010,0020)" in _dump(item.output)


def _dump(path: Path) -> str:
    return subprocess.run(["dcmdump", str(path)], capture_output=True, text=True,
                          timeout=30).stdout


def _dciodvfy_errors(path: Path) -> set[str]:
    result = subprocess.run(["dciodvfy", "-new", str(path)], capture_output=True, text=True,
                            timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    return {_normalise(line) for line in lines if _ERROR.match(line)}


def _normalise(line: str) -> str:
    """An error line with its attribute path kept and values (UIDs, lengths) blanked, so the
    lines of a source and its output compare."""
    head, _, rest = line.partition("> - ")
    return f"{head}> - {re.sub(r'<[^>]*>|[0-9][0-9.]*', '#', rest)}".strip()


def _about_profile_changes(line: str) -> bool:
    return any(name in line for name in EXPECTED_BY_PROFILE)


def test_dciodvfy_finds_no_new_error_in_any_output(staged: list[Staged]) -> None:
    new: dict[str, set[str]] = {}
    for item in staged:
        before = _dciodvfy_errors(item.source)
        after = _dciodvfy_errors(item.output)
        added = {e for e in after - before if not _about_profile_changes(e)}
        if added:
            new[item.source.name] = added
    assert not new, new


def test_dciodvfy_really_reports_errors(tmp_path: Path) -> None:
    """The comparison above means something: dciodvfy does flag a broken object."""
    ds = builders.ct_slice()
    del ds.Rows
    del ds.SOPClassUID
    del ds.file_meta.MediaStorageSOPClassUID
    ds.SOPClassUID = builders.CT_IMAGE
    path = builders.write(ds, tmp_path / "broken")
    assert any("Rows" in e for e in _dciodvfy_errors(path))


def test_same_input_twice_gives_byte_identical_output(tmp_path: Path,
                                                      site_keys: SiteKeys) -> None:
    for source in _sources(tmp_path / "source"):
        first = _deidentify(source, tmp_path / "run1", site_keys)
        second = _deidentify(source, tmp_path / "run2", site_keys)
        assert first.name == second.name
        assert first.read_bytes() == second.read_bytes(), source.name


def test_pseudonym_is_the_one_the_spreadsheet_path_computes(
        tmp_path: Path, staged: list[Staged], site_keys: SiteKeys) -> None:
    template = template_by_id("status")
    row = sheet_builders.status_row(1, **{sheet_builders.HOSPITAL:
                                          builders.PATIENT.hospital_number})
    sheet = sheet_builders.save_workbook(tmp_path / "status.xlsx", template, [row])
    report = validate_workbook(sheet, "status")
    assert report.error_count == 0
    [envelope] = build_envelopes(report, site_keys)
    for item in staged:
        output = dcmread(item.output)
        assert output.PatientID == envelope.pseudonym, item.source.name
        assert str(output.PatientName) == envelope.pseudonym


@pytest.mark.parametrize("name", ["cr_rle", "dx_jpeg"])
def test_compressed_pixel_data_passes_through_byte_for_byte(staged: list[Staged],
                                                             name: str) -> None:
    [item] = [s for s in staged if s.source.name == name]
    source, output = dcmread(item.source), dcmread(item.output)
    assert output.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert output.file_meta.TransferSyntaxUID.is_compressed
    assert output.PixelData == source.PixelData
    raw = item.output.read_bytes()
    assert source.PixelData in raw
