"""``nccid doctor`` in-process and as the installed command: verdicts, exit codes, no password."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from nccid_desktop.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_doctor_passes_and_tests_sign_in_with_the_password_from_the_environment(
        https_service, ca_bundle, service, monkeypatch, capsys):
    monkeypatch.setenv("NCCID_PASSWORD", service.account.password)
    code = main(["doctor", "--server", https_service, "--ca-bundle", str(ca_bundle), "--user",
                 service.account.username, "--sign-in", "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == f"PASS  Settings: Service address {https_service} (from the command line)."
    assert lines[-2].startswith("PASS  Sign-in: Signed in as demo")
    assert lines[-1] == "All checks passed."
    assert service.account.password not in out


def test_doctor_uses_the_saved_settings_and_skips_sign_in_without_a_password(
        https_service, ca_bundle, capsys):
    from nccid_desktop import config

    config.save_user_settings({"server_url": https_service, "ca_bundle": str(ca_bundle)})
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "(from your own settings)" in out
    assert "SKIP  Sign-in: Not tested: give a user name and password" in out


def test_installed_doctor_names_an_untrusted_certificate_and_exits_1(https_service, tmp_path):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env |= {"NCCID_HOME": str(tmp_path), "NCCID_POLICY_FILE": str(tmp_path / "none.toml")}
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "nccid"), "doctor", "--server",
                           https_service, "--timeout", "5"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "FAIL  Secure connection: This computer does not trust a certificate" in done.stdout
    assert "Next step: Ask IT to add the CA that issued it" in done.stdout
    assert done.stdout.rstrip().endswith("Some checks failed: see above.")
    assert done.stderr == ""
