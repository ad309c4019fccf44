"""The Windows installer source compiles (wixl, the Linux bundle as a stand-in payload) into a
per-machine MSI with a Start-menu shortcut, a fixed upgrade code and major upgrades; the file
list harvester gives every path a stable component GUID."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ROOT / "packaging" / "windows"
sys.path.insert(0, str(WINDOWS))

import harvest  # noqa: E402

UPGRADE_CODE = re.search(r'UpgradeCode="([0-9A-F-]+)"',
                         (WINDOWS / "nccid-desktop.wxs").read_text(encoding="utf-8")).group(1)


def _table(msi: Path, name: str) -> list[dict[str, str]]:
    """Rows of one MSI table, as ``msiinfo export`` prints it (header, types, key, rows)."""
    text = subprocess.run(["msiinfo", "export", str(msi), name], capture_output=True, text=True,
                          check=True).stdout
    lines = text.splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=False)) for line in lines[3:]]


@pytest.fixture(scope="module")
def msi(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("msi")
    fragment = work / "bundle-files.wxs"
    fragment.write_text(harvest.fragment(bundle, relative_to=work), encoding="utf-8")
    shutil.copy(WINDOWS / "nccid-desktop.ico", work / "nccid-desktop.ico")
    output = work / "nccid-desktop-0.1.0-x64.msi"
    done = subprocess.run(["wixl", "-a", "x64", "-D", "Version=0.1.0", "-D",
                           "IconFile=nccid-desktop.ico", "-o", output.name,
                           str(WINDOWS / "nccid-desktop.wxs"), fragment.name],
                          cwd=work, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0 and output.is_file(), done.stderr[-3000:]
    return output


@pytest.mark.slow
def test_product_identity_and_per_machine_scope(msi):
    properties = {row["Property"]: row["Value"] for row in _table(msi, "Property")}
    assert properties["ProductName"] == "NCCID Desktop"
    assert properties["ProductVersion"] == "0.1.0"
    assert properties["ALLUSERS"] == "1"
    assert properties["UpgradeCode"] == "{" + UPGRADE_CODE + "}"
    summary = subprocess.run(["msiinfo", "suminfo", str(msi)], capture_output=True, text=True,
                             check=True).stdout
    assert "Template: x64;1033" in summary


@pytest.mark.slow
def test_major_upgrade_replaces_older_and_refuses_downgrade(msi):
    rows = _table(msi, "Upgrade")
    assert {row["UpgradeCode"] for row in rows} == {"{" + UPGRADE_CODE + "}"}
    assert {row["ActionProperty"] for row in rows} == {"WIX_UPGRADE_DETECTED",
                                                       "WIX_DOWNGRADE_DETECTED"}


@pytest.mark.slow
def test_installs_under_program_files_with_a_start_menu_shortcut(msi):
    directories = {row["Directory"]: row for row in _table(msi, "Directory")}
    assert directories["INSTALLDIR"]["Directory_Parent"] == "ProgramFiles64Folder"
    assert directories["INSTALLDIR"]["DefaultDir"] == "NCCID Desktop"
    (shortcut,) = _table(msi, "Shortcut")
    assert shortcut["Directory_"] == "ProgramMenuFolder"
    assert shortcut["Name"] == "NCCID Desktop"
    assert shortcut["Target"] == "[#MainExecutable]"
    files = {row["File"]: row for row in _table(msi, "File")}
    assert files["MainExecutable"]["FileName"] == "nccid-desktop"


@pytest.mark.slow
def test_every_bundle_file_is_installed_and_nothing_runs_at_install(msi, bundle):
    assert len(_table(msi, "File")) == len(harvest.bundle_files(bundle))
    components = _table(msi, "Component")
    assert all(int(row["Attributes"]) & 256 for row in components), "64-bit components"
    assert _table(msi, "CustomAction") == []  # no scripts, no self-updater


def test_component_guids_are_stable_per_path(tmp_path):
    bundle = tmp_path / "nccid-desktop"
    (bundle / "_internal" / "ui").mkdir(parents=True)
    (bundle / "nccid-desktop.exe").write_bytes(b"MZ")
    (bundle / "_internal" / "ui" / "theme.qss").write_text("QWidget {}", encoding="utf-8")
    (bundle / "_internal" / "link.so").symlink_to(bundle / "nccid-desktop.exe")
    first = harvest.fragment(bundle, relative_to=tmp_path)
    assert harvest.fragment(bundle, relative_to=tmp_path) == first
    # Pinned: a changed namespace or derivation would break every upgrade of an installed copy.
    assert harvest.component_guid("nccid-desktop.exe") == "1AAAB207-1B3D-5D2D-8D4B-B032B34DF763"
    assert 'File Id="MainExecutable" Name="nccid-desktop.exe"' in first
    assert 'Source="nccid-desktop/_internal/ui/theme.qss"' in first
    assert "link.so" not in first
    assert first.count("<Component ") == 2


def test_harvest_refuses_a_folder_without_the_app(tmp_path):
    (tmp_path / "readme.txt").write_text("not a bundle", encoding="utf-8")
    with pytest.raises(SystemExit, match="no nccid-desktop executable"):
        harvest.fragment(tmp_path)
