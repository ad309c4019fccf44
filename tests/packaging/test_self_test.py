"""The installation self-test: passes on a complete install, and each check can really fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nccid_desktop.gui import self_test, self_test_tls
from nccid_desktop.paths import user_log_dir

ROOT = Path(__file__).resolve().parents[2]


def test_every_check_passes_on_a_complete_install(qapp, capsys):
    assert self_test.run_self_test() == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("NCCID Desktop ")
    assert "self-test passed: settings, qt-plugins, window, sheet, dicom, certificates" in line
    assert (user_log_dir() / self_test.REPORT_FILE).read_text(encoding="utf-8").strip() == line


def test_a_machine_policy_with_a_mistake_fails_and_names_the_file(qapp, capsys, monkeypatch,
                                                                 tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('server_url = "https://nccid.example.nhs.uk"\nsite = "R"\n', encoding="utf-8")
    monkeypatch.setenv("NCCID_POLICY_FILE", str(policy))
    assert self_test.run_self_test("settings") == 1
    line = capsys.readouterr().out
    assert "self-test FAILED: settings: " in line and "policy.toml" in line


def test_a_missing_native_platform_plugin_fails_and_names_it(qapp, capsys, monkeypatch):
    monkeypatch.setitem(self_test.NATIVE_PLATFORM_PLUGIN, sys.platform, "qnosuchplatform")
    assert self_test.run_self_test("qt-plugins") == 1
    line = capsys.readouterr().out
    assert "self-test FAILED: qt-plugins: the Qt platform plugin qnosuchplatform is missing" in line


def test_a_missing_sample_image_fails_the_dicom_check(qapp, capsys, monkeypatch):
    monkeypatch.setattr(self_test, "SAMPLE_IMAGES", ("sample-cr.dcm", "sample-mg.dcm"))
    assert self_test.run_self_test("dicom") == 1
    assert "dicom: the sample images are missing from resources" in capsys.readouterr().out


def test_the_dicom_check_catches_a_value_left_in_the_output(qapp, capsys, monkeypatch):
    monkeypatch.setattr(self_test, "_identifying_values", lambda path: ["CHEST"])
    assert self_test.run_self_test("dicom") == 1
    assert "an identifier survived de-identification" in capsys.readouterr().out


def test_an_unreadable_ca_bundle_fails_the_certificate_check(qapp, capsys, monkeypatch):
    def broken_bundle(work: Path) -> tuple[Path, Path]:
        cert = work / "ca.pem"
        cert.write_text("not a certificate", encoding="utf-8")
        return cert, cert

    monkeypatch.setattr(self_test_tls, "_self_signed", broken_bundle)
    assert self_test.run_self_test("certificates") == 1
    out = capsys.readouterr().out
    assert "certificates: SSLError (details in the log)" in out


def test_an_unknown_check_name_is_refused(qapp, capsys):
    assert self_test.run_self_test("window,teleport") == 1
    assert "unknown check(s) teleport" in capsys.readouterr().out


def test_the_samples_are_what_the_script_writes():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_samples.py"), "--check"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("only", ["window", "sheet,dicom"])
def test_installed_command_runs_chosen_checks(tmp_path, only):
    env = {"NCCID_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nccid-desktop"), f"--self-test={only}"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"self-test passed: {only.replace(',', ', ')} (" in done.stdout


def _close_standard_streams() -> None:
    import os

    os.close(1)
    os.close(2)


def test_bundle_entry_script_runs_without_standard_streams(tmp_path):
    """What a windowed Windows build does: no stdout/stderr at all. The result goes to the log."""
    env = {"NCCID_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "nccid_desktop_main.py"),
                           "--self-test=settings,window,dicom"], env=env, cwd=tmp_path,
                          preexec_fn=_close_standard_streams, timeout=120)
    assert done.returncode == 0
    report = (tmp_path / "logs" / self_test.REPORT_FILE).read_text(encoding="utf-8")
    assert "self-test passed: settings, window, dicom" in report
