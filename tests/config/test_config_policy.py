"""The machine policy file: where it lives, what it may say, and errors that name file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nccid_desktop import config
from nccid_desktop.config.policy import default_policy_path, parse_policy
from nccid_desktop.errors import ConfigError

FULL_POLICY = '''# deployed by IT
server_url = "https://nccid.example.nhs.uk"
site = "RSH"
proxy = "http://proxy.trust.nhs.uk:8080"
ca_bundle = "/etc/ssl/trust-inspection-ca.pem"
hospital_pattern = "RR[0-9]{8}"
linking = "nhs"
locked = ["server_url", "site", "proxy"]
'''


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_policy_key_is_read_and_only_listed_keys_are_locked(tmp_path):
    policy = config.read_policy(_write(tmp_path, FULL_POLICY))
    assert policy.values == {
        "server_url": "https://nccid.example.nhs.uk", "site": "RSH",
        "proxy": "http://proxy.trust.nhs.uk:8080", "ca_bundle": "/etc/ssl/trust-inspection-ca.pem",
        "hospital_pattern": "RR[0-9]{8}", "linking": "nhs"}
    assert policy.locked == {"server_url", "site", "proxy"}


def test_an_absent_policy_is_empty_and_the_override_variable_moves_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NCCID_POLICY_FILE", str(tmp_path / "none-here.toml"))
    assert config.policy_path() == tmp_path / "none-here.toml"
    assert config.read_policy() == config.Policy(path=tmp_path / "none-here.toml")
    monkeypatch.delenv("NCCID_POLICY_FILE")
    assert config.policy_path() == default_policy_path()


def test_the_documented_location_per_operating_system(monkeypatch):
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", r"D:\ProgramData")
    assert default_policy_path() == Path(r"D:\ProgramData") / "NCCID Desktop" / "policy.toml"
    monkeypatch.setattr("sys.platform", "linux")
    assert default_policy_path() == Path("/etc/nccid-desktop/policy.toml")


@pytest.mark.parametrize(("text", "line", "says"), [
    ('server_url = "https://a.nhs.uk"\nsite = RSH\n', 2, "not valid TOML"),
    ('\n\nlinking = "pacs"\n', 3, '"linking" must be "hospital" or "nhs"'),
    ('site = "RSH"\nserver = "https://a.nhs.uk"\n', 2, '"server" is not a policy setting'),
    ('site = "RSH"\nusername = "nurse1"\n', 2, '"username" is not a policy setting'),
    ('proxy = 8080\n', 1, '"proxy" must be text in quotes'),
    ('proxy = "proxy.trust.nhs.uk"\n', 1, '"proxy" must be "system", "none" or a proxy address'),
    ('server_url = "nccid.example.nhs.uk"\n', 1, "must be a web address starting with https://"),
    ('hospital_pattern = "RR[0-9"\n', 1, "not a valid pattern"),
    ('site = "R"\n', 1, "2 to 16 letters or digits"),
    ('negative_window_days_after = "35"\n', 1, "whole number of days from 0 to 28"),
    ('negative_window_days_after = "-1"\n', 1, "whole number of days from 0 to 28"),
    ('site = "RSH"\n\nlocked = ["site", "proxy"]\n', 3, 'locked names "proxy", which the policy'),
    ('site = "RSH"\nlocked = "site"\n', 2, "locked must be a list"),
])
def test_a_malformed_policy_names_the_file_and_the_line(tmp_path, text, line, says):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        config.read_policy(path)
    message = str(raised.value)
    assert str(path) in message and f"line {line}" in message and says in message
    assert "Ask IT" in message


def test_a_policy_that_is_not_text_is_refused_plainly(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_bytes(b"\xff\xfe s\x00i\x00t\x00e\x00")
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        config.read_policy(path)


def test_the_shipped_example_policy_sets_every_key_once_uncommented():
    """packaging/policy.example.toml: every key commented out; uncommented, a valid policy."""
    example = Path(__file__).resolve().parents[2] / "packaging" / "policy.example.toml"
    text = example.read_text(encoding="utf-8")
    assert config.read_policy(example).values == {}
    settings = [line.removeprefix("# ") for line in text.splitlines()
                if re.match(r"# [a-z_]+ = ", line)]
    policy = parse_policy("\n".join(settings), example)
    assert set(policy.values) == set(config.POLICY_NAMES)
    assert policy.locked == {"server_url", "site", "proxy", "ca_bundle"}
